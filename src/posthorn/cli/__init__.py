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
from posthorn.config import DEFAULT_SITE_FILE, Config, ConfigError, load_config
from posthorn.errors import PosthornError
from posthorn.site import Site

__all__ = ["CliContext", "describe_site_file", "main", "pass_cli"]

# Each command by name, and the module under posthorn.cli that provides it as
# ``command``.  A module is imported when its command is run or listed, not before: the
# master (``posthorn start``) would otherwise hold every command's code, which no
# runner needs, in the memory each of them shares.
COMMANDS = {
    "info": "info",
    "conf": "conf",
    "start": "start",
    "stop": "stop",
    "restart": "restart",
    "status": "status",
    "reopen": "reopen",
    "queues": "queues",
    "unshunt": "unshunt",
    "qfile": "qfile",
    "create": "create",
    "remove": "remove",
    "lists": "lists",
    "settings": "settings",
    "members": "members",
    "bans": "bans",
    "header-matches": "header_matches",
    "shell": "shell",
    "aliases": "aliases",
    "held": "held",
    "moderate": "moderate",
    "requests": "requests",
    "archivers": "archivers",
    "archive-server": "archive_server",
    "digests": "digests",
    "delivery": "delivery_mode",
    "where": "where",
    "import": "import_",
    # The operator's tools, as Mailman and Postfix have them.
    "inject": "inject",
    "findmember": "findmember",
    "syncmembers": "syncmembers",
    "version": "version",
    "queue": "queue",
}


class CliContext:
    """Built lazily so that ``posthorn --help`` and ``conf`` need no database."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path)

    @cached_property
    def existing_config(self) -> Config:
        """The configuration of a site that exists; a clear error where none does.

        Commands that only read use this (or ``site``): run from the wrong folder, they
        would otherwise make an empty site there and report that nothing is in it.
        """
        config = self.config
        var_dir = config.path("var_dir")
        if not var_dir.is_dir():
            raise click.ClickException(
                f"no Posthorn site at {var_dir} (the var dir does not exist); "
                f"configuration file: {describe_site_file(config)}. "
                "Give the site's file with -C FILE or $POSTHORN_CONFIG, or run from the "
                "folder holding etc/posthorn.cfg; `posthorn start` or `posthorn create` "
                "makes a new site."
            )
        return config

    @cached_property
    def site(self) -> Site:
        """The existing site, its databases brought up to date."""
        return self._open(self.existing_config)

    @cached_property
    def new_site(self) -> Site:
        """The site, created when it does not exist yet (for commands that add things)."""
        return self._open(self.config)

    def _open(self, config: Config) -> Site:
        site = Site(config)
        site.databases.upgrade()
        return site

    def close(self) -> None:
        """Release the site's database connections, if a command built the site."""
        for name in ("site", "new_site"):
            if name in self.__dict__:
                self.__dict__[name].close()


def describe_site_file(config: Config) -> str:
    """The site file in use, or where it was looked for when there is none."""
    if config.site_file is not None:
        return str(config.site_file)
    return f"none (no -C, no $POSTHORN_CONFIG, no {DEFAULT_SITE_FILE.resolve()})"


pass_cli = click.make_pass_decorator(CliContext)


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(f"posthorn.cli.{COMMANDS[cmd_name]}")
            self.add_command(module.command)
        return super().get_command(ctx, cmd_name)

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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
