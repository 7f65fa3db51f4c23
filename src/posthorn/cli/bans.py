"""``posthorn bans``: show, add, check and remove the site's or a list's bans.

A ban is an address or a ``^pattern`` (docs/bans-and-header-matches.md).  Without
``--list`` the site-wide bans are meant, which hold on every list.
"""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.model.bans import DatabaseBanManager


@click.command()
@click.option("-l", "--list", "list_name", metavar="LIST", help="A list's bans, not the site's.")
@click.option(
    "-a", "--add", "add", multiple=True, metavar="EMAIL", help="Ban an address or ^pattern."
)
@click.option(
    "-r", "--remove", "remove", multiple=True, metavar="EMAIL", help="Lift this exact ban."
)
@click.option("-c", "--check", "check", metavar="EMAIL", help="Say whether the address is banned.")
@pass_cli
def command(
    cli: CliContext, list_name: str | None, add: tuple[str, ...], remove: tuple[str, ...],
    check: str | None,
) -> None:  # fmt: skip
    """List the bans (of LIST, else of the site), or change them."""
    list_id = cli.site.lists.require(list_name).list_id if list_name else None
    where = list_id or "the site"
    bans = DatabaseBanManager.from_site(cli.site)
    for email in add:
        ban = bans.ban(email, list_id)
        click.echo(f"Banned on {where}: {ban.email}")
    for email in remove:
        bans.unban(email, list_id)
        click.echo(f"No longer banned on {where}: {email}")
    if check is not None:
        banned = bans.is_banned(check, list_id)
        click.echo(f"{check} is {'banned' if banned else 'not banned'} on {where}")
        if not banned:
            raise SystemExit(2)
    if add or remove or check is not None:
        return
    for ban in bans.bans(list_id):
        click.echo(ban.email)


command.name = "bans"
