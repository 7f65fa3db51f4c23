"""``posthorn lists``: show the mailing lists, optionally of one domain."""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.errors import NoSuchDomainError


@click.command()
@click.option("-d", "--domain", metavar="DOMAIN", help="Only the lists of this mail host.")
@click.option("-a", "--advertised", is_flag=True, help="Only the advertised lists.")
@click.option("-q", "--quiet", is_flag=True, help="Posting addresses only, no heading.")
@pass_cli
def command(cli: CliContext, domain: str | None, advertised: bool, quiet: bool) -> None:
    """List the mailing lists, one posting address a line."""
    site = cli.site
    if domain is not None and site.domains.get(domain) is None:
        raise NoSuchDomainError(f"no domain {domain}")
    found = site.lists.lists(mail_host=domain, advertised=True if advertised else None)
    if not quiet:
        click.echo(
            f"{len(found)} matching mailing lists found:"
            if found
            else "No matching mailing lists found"
        )
    for mlist in found:
        if quiet or not mlist.description:
            click.echo(mlist.fqdn_listname)
        else:
            click.echo(f"{mlist.fqdn_listname} - {mlist.description}")


command.name = "lists"
