"""``posthorn held LIST``: the posts of a list waiting for a moderator.

One line per held post: request id, date held, sender, subject, reason (tab
separated, so scripts can cut it); decide with ``posthorn moderate``.
"""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli


@click.command()
@click.argument("listname")
@pass_cli
def command(cli: CliContext, listname: str) -> None:
    """Show the held messages of LISTNAME (posting address or list-id)."""
    site = cli.site
    mlist = site.lists.require(listname)
    held = site.messages.held_for_list(mlist.list_id)
    if not held:
        click.echo(f"No held messages for {mlist.fqdn_listname}")
        return
    for entry in held:
        when = entry.held_on.strftime("%Y-%m-%d %H:%M:%S")
        fields = [str(entry.request_id), when, entry.sender, entry.subject, entry.reason]
        click.echo("\t".join(field.replace("\t", " ").replace("\n", " ") for field in fields))


command.name = "held"
