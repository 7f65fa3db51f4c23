"""``posthorn info``: where things are and which versions run them.

It only reads: the databases are named, not opened, so ``info`` run from the wrong
folder shows where it looked instead of making a site there.
"""

from __future__ import annotations

import platform

import click
import sqlalchemy

from posthorn import __version__
from posthorn.cli import CliContext, describe_site_file, pass_cli
from posthorn.database import Databases


@click.command()
@pass_cli
def command(cli: CliContext) -> None:
    """Show the configuration file, every path, database URLs, addresses and versions."""
    config = cli.config
    mta, rest = config["mta"], config["webservice"]
    var_dir = config.path("var_dir")
    lines = [
        f"Posthorn {__version__} on Python {platform.python_version()}, "
        f"SQLAlchemy {sqlalchemy.__version__}",
        f"site: {config['posthorn'].get_str('site_name')}",
        f"config file: {describe_site_file(config)}",
    ]
    lines += [f"{key}: {config['paths'].raw(key) or '-'}" for key in config["paths"]]
    lines += [f"database ({slice_}): {url}" for slice_, url in Databases(config).urls().items()]
    lines += [
        f"lmtp: {mta.get_str('lmtp_host')}:{mta.get_int('lmtp_port')}",
        f"smtp (outgoing): {mta.get_str('smtp_host')}:{mta.get_int('smtp_port')}",
        f"rest: http://{rest.get_str('hostname')}:{rest.get_int('port')}"
        f"/{rest.get_str('api_version')} (user {rest.get_str('admin_user')})",
    ]
    click.echo("\n".join(lines))
    if not var_dir.is_dir():
        raise click.ClickException(f"no Posthorn site at {var_dir} (the var dir does not exist)")


command.name = "info"
