"""``posthorn info``: where things are and which versions run them."""

from __future__ import annotations

import platform

import click
import sqlalchemy

from posthorn import __version__
from posthorn.cli import CliContext, pass_cli


@click.command()
@pass_cli
def command(cli: CliContext) -> None:
    """Show paths, the configuration file, database URLs and versions."""
    config = cli.config
    databases = cli.site.databases
    lines = [
        f"Posthorn {__version__} on Python {platform.python_version()}, "
        f"SQLAlchemy {sqlalchemy.__version__}",
        f"site: {config['posthorn'].get_str('site_name')}",
        f"config file: {config.site_file or '(none: built-in defaults)'}",
    ]
    lines += [f"{key}: {config['paths'].raw(key) or '-'}" for key in config["paths"]]
    lines += [f"database ({slice_}): {url}" for slice_, url in databases.urls().items()]
    click.echo("\n".join(lines))


command.name = "info"
