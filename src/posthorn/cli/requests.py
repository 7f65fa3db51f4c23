"""``posthorn requests LIST [TOKEN ACTION]``: pending (un)subscriptions and deciding them.

Without a token: every live request of the list, one per line (token, type, address,
whose move it is, when).  With a token and an action: accept, reject (the requester is
told, with ``--reason``), discard or defer, through the same workflow the REST API's
``requests`` resource uses.
"""

from __future__ import annotations

from typing import cast

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.errors import PosthornError
from posthorn.workflows import ModeratorAction
from posthorn.workflows.requests import list_requests, moderate_request


@click.command()
@click.argument("listname")
@click.argument("token", required=False)
@click.argument(
    "action", required=False, type=click.Choice(["accept", "reject", "discard", "defer"])
)
@click.option("--reason", help="Why (sent to the requester on reject).")
@pass_cli
def command(
    cli: CliContext, listname: str, token: str | None, action: str | None, reason: str | None
) -> None:
    """List the pending requests of LISTNAME, or decide request TOKEN."""
    site = cli.site
    mlist = site.lists.require(listname)
    if token is None:
        found = list_requests(site, mlist)
        for pending in found:
            data = pending.data
            click.echo(
                f"{pending.token}  {pending.type}  {data.get('email')}  "
                f"waiting for {data.get('token_owner', 'no one')}  "
                f"since {pending.created_on:%Y-%m-%d %H:%M}"
            )
        if not found:
            click.echo(f"No pending requests for {mlist.fqdn_listname}.")
        return
    if action is None:
        raise click.UsageError("give an action: accept, reject, discard or defer")
    outcome = moderate_request(site, mlist, token, cast(ModeratorAction, action), reason)
    if outcome.status == "unknown-token":
        raise PosthornError(f"no pending request {token} for {mlist.fqdn_listname}")
    click.echo(outcome.message)


command.name = "requests"
