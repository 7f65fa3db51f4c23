"""``posthorn remove``: delete a mailing list with its members and pending requests.

Users and addresses stay: they belong to the user slice and may be on other lists.
"""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.mta.aliases import warnings_echoed


@click.command()
@click.argument("name", metavar="LIST")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_cli
def command(cli: CliContext, name: str, yes: bool) -> None:
    """Remove the mailing list LIST (posting address or list-id)."""
    lists = cli.site.lists
    mlist = lists.require(name)
    if not yes:
        count = len(lists.roster(mlist).members)
        click.confirm(f"Remove {mlist.fqdn_listname} and its {count} members?", abort=True)
    with warnings_echoed(lambda line: click.echo(line, err=True)):
        lists.remove(mlist)
    click.echo(f"Removed mailing list: {mlist.fqdn_listname}")


command.name = "remove"
