"""``posthorn held LIST``: the posts of a list waiting for a moderator.

The layout of every listing (``posthorn.cli.tables``), the same as ``posthorn
requests``: a header line, then id, date, address and what it is about, tab
separated (or ``--json``); decide with ``posthorn moderate``.
"""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.cli.tables import json_option, print_table

COLUMNS = ("id", "date", "sender", "subject", "reason")


@click.command()
@click.argument("listname")
@json_option
@pass_cli
def command(cli: CliContext, listname: str, as_json: bool) -> None:
    """Show the held messages of LISTNAME (posting address or list-id)."""
    site = cli.site
    mlist = site.lists.require(listname)
    held = site.messages.held_for_list(mlist.list_id)
    rows = [
        {
            "id": entry.request_id,
            "date": entry.held_on.strftime("%Y-%m-%d %H:%M:%S"),
            "sender": entry.sender,
            "subject": entry.subject,
            "reason": entry.reason,
        }
        for entry in held
    ]
    print_table(COLUMNS, rows, as_json)
    if not rows and not as_json:
        click.echo(f"No held messages for {mlist.fqdn_listname}", err=True)


command.name = "held"
