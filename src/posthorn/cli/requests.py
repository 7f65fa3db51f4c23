"""``posthorn requests LIST [TOKEN ACTION]``: pending (un)subscriptions and deciding them.

Without a token: every live request of the list, in the layout of ``posthorn held``
(a header line, then token, date, address, type and whose move it is; or ``--json``).
With a token and an action: accept, reject (the requester is told, with ``--reason``),
discard or defer, through the same workflow the REST API's ``requests`` resource uses.
"""

from __future__ import annotations

from typing import cast

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.cli.tables import json_option, print_table
from posthorn.errors import PosthornError
from posthorn.workflows import ModeratorAction
from posthorn.workflows.requests import list_requests, moderate_request

# The layout of ``posthorn held``: id, date, address, what it is about.
COLUMNS = ("id", "date", "email", "type", "waiting_for")


@click.command()
@click.argument("listname")
@click.argument("token", required=False)
@click.argument(
    "action", required=False, type=click.Choice(["accept", "reject", "discard", "defer"])
)
@click.option("--reason", help="Why (sent to the requester on reject).")
@json_option
@pass_cli
def command(
    cli: CliContext,
    listname: str,
    token: str | None,
    action: str | None,
    reason: str | None,
    as_json: bool,
) -> None:
    """List the pending requests of LISTNAME, or decide request TOKEN."""
    site = cli.site
    mlist = site.lists.require(listname)
    if token is None:
        rows = [
            {
                "id": pending.token,
                "date": f"{pending.created_on:%Y-%m-%d %H:%M:%S}",
                "email": pending.data.get("email"),
                "type": pending.type,
                "waiting_for": pending.data.get("token_owner", "no one"),
            }
            for pending in list_requests(site, mlist)
        ]
        print_table(COLUMNS, rows, as_json)
        if not rows and not as_json:
            click.echo(f"No pending requests for {mlist.fqdn_listname}.", err=True)
        return
    if action is None:
        raise click.UsageError("give an action: accept, reject, discard or defer")
    outcome = moderate_request(site, mlist, token, cast(ModeratorAction, action), reason)
    if outcome.status == "unknown-token":
        raise PosthornError(f"no pending request {token} for {mlist.fqdn_listname}")
    click.echo(outcome.message)


command.name = "requests"
