"""``posthorn create``: make a new mailing list, and its domain if need be."""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.mta.aliases import warnings_echoed


@click.command()
@click.argument("fqdn_listname", metavar="LIST@DOMAIN")
@click.option(
    "-o", "--owner", "owners", multiple=True, metavar="ADDR",
    help="Subscribe ADDR as an owner of the new list (repeatable).",
)  # fmt: skip
@click.option(
    "--domain/--no-domain", "create_domain", default=True,
    help="Create the domain when it does not exist (default), or refuse.",
)  # fmt: skip
@pass_cli
def command(
    cli: CliContext, fqdn_listname: str, owners: tuple[str, ...], create_domain: bool
) -> None:
    """Create the mailing list LIST@DOMAIN with default settings."""
    site = cli.new_site
    new_domain = create_domain and site.domains.get(fqdn_listname.rpartition("@")[2]) is None
    with warnings_echoed(lambda line: click.echo(line, err=True)):
        mlist = site.lists.create(fqdn_listname, owners=owners, create_domain=create_domain)
    if new_domain:
        click.echo(f"Created domain: {mlist.mail_host}")
    click.echo(f"Created mailing list: {mlist.fqdn_listname}")
    for owner in owners:
        click.echo(f"Owner: {owner}")


command.name = "create"
