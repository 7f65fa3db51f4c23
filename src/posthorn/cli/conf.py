"""``posthorn conf``: print the effective configuration, or one section or key."""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli


@click.command()
@click.option("-s", "--section", help="Only this section, e.g. mta or runner.incoming.")
@click.option("-k", "--key", help="Only this key (needs --section); prints the bare value.")
@click.option(
    "-n", "--changed", is_flag=True, help="Only what the site file sets to a non-default value."
)
@pass_cli
def command(cli: CliContext, section: str | None, key: str | None, changed: bool) -> None:
    """Print the effective configuration (built-in defaults plus the site file)."""
    if key is not None and section is None:
        raise click.UsageError("--key needs --section")
    click.echo(cli.config.dump(section, key, changed_only=changed), nl=key is not None)


command.name = "conf"
