"""``posthorn conf``: print the effective configuration, or one section or key."""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli


@click.command()
@click.option("-s", "--section", help="Only this section, e.g. mta or runner.incoming.")
@click.option("-k", "--key", help="Only this key (needs --section); prints the bare value.")
@pass_cli
def command(cli: CliContext, section: str | None, key: str | None) -> None:
    """Print the effective configuration (built-in defaults plus the site file)."""
    if key is not None and section is None:
        raise click.UsageError("--key needs --section")
    click.echo(cli.config.dump(section, key), nl=key is not None)


command.name = "conf"
