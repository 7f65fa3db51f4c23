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
from posthorn.config import Config
from posthorn.database import Databases


def lmtp_address(config: Config) -> str:
    """Where the MTA delivers: host and port of the lmtp runner."""
    mta = config["mta"]
    return f"{mta.get_str('lmtp_host')}:{mta.get_int('lmtp_port')}"


def rest_address(config: Config) -> str:
    """The REST API's base URL and the user that may call it."""
    rest = config["webservice"]
    url = f"http://{rest.get_str('hostname')}:{rest.get_int('port')}/{rest.get_str('api_version')}"
    return f"{url} (user {rest.get_str('admin_user')})"


@click.command()
@pass_cli
def command(cli: CliContext) -> None:
    """Show the configuration file, every path, database URLs, addresses and versions."""
    config = cli.config
    mta = config["mta"]
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
        f"lmtp: {lmtp_address(config)}",
        f"smtp (outgoing): {mta.get_str('smtp_host')}:{mta.get_int('smtp_port')}",
        f"rest: {rest_address(config)}",
    ]
    click.echo("\n".join(lines))
    if not var_dir.is_dir():
        raise click.ClickException(f"no Posthorn site at {var_dir} (the var dir does not exist)")


command.name = "info"
