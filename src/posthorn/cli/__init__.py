"""The ``posthorn`` command line.

Each command is one module in this package exposing ``command`` (a click command); the
list below makes it known.  Errors a person can fix (bad configuration, unknown list,
invalid address) end with a one-line message and exit code 1, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from posthorn import __version__
from posthorn.config import Config, ConfigError, load_config
from posthorn.errors import PosthornError
from posthorn.site import Site

__all__ = ["CliContext", "main", "pass_cli"]

# Module names under posthorn.cli; each provides ``command``.
COMMAND_MODULES = [
    "info",
    "conf",
    "start",
    "stop",
    "restart",
    "status",
    "reopen",
    "queues",
    "unshunt",
    "qfile",
    "create",
    "remove",
    "lists",
    "settings",
    "members",
    "bans",
    "header_matches",
    "shell",
    "aliases",
    "held",
    "moderate",
    "requests",
    "archivers",
    "archive_server",
    "digests",
    "delivery",
    "where",
    "import_",
]


class CliContext:
    """Built lazily so that ``posthorn --help`` and ``conf`` need no database."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path)

    @cached_property
    def site(self) -> Site:
        site = Site(self.config)
        site.databases.upgrade()
        return site

    def close(self) -> None:
        """Release the site's database connections, if a command built the site."""
        if "site" in self.__dict__:
            self.site.close()


pass_cli = click.make_pass_decorator(CliContext)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, PosthornError) as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="posthorn")
@click.option(
    "-C",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=str),
    envvar="POSTHORN_CONFIG",
    help="Site configuration file (default: $POSTHORN_CONFIG, else etc/posthorn.cfg).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Posthorn, a mailing-list server core."""
    if config_path is not None and not Path(config_path).is_file():
        raise click.ClickException(f"{config_path}: configuration file not found")
    ctx.obj = CliContext(config_path)
    ctx.call_on_close(ctx.obj.close)


for _name in COMMAND_MODULES:
    main.add_command(importlib.import_module(f"posthorn.cli.{_name}").command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
