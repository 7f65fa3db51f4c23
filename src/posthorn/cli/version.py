"""``posthorn version``: the version, as ``mailman version`` and ``postconf mail_version``."""

from __future__ import annotations

import click

from posthorn import __version__


@click.command()
def command() -> None:
    """Print the version of Posthorn."""
    click.echo(f"Posthorn {__version__}")


command.name = "version"
