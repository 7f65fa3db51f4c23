"""``posthorn shell``: a Python prompt on the site, or one function run against a list.

The interactive form is GNU Mailman's ``withlist``/``shell``: ``site`` and (with
``-l``) ``mlist`` are ready in the namespace.  ``--run package.module.function`` calls
``function(site, mlist)`` instead and prints what it returns, which makes one-off
repairs scriptable and repeatable.
"""

from __future__ import annotations

import code
from typing import Any

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.registry import RegistryError, import_dotted

BANNER = """Posthorn shell on {site_file}.
  site   the Site: site.lists, site.users, site.domains, site.messages, site.config
  mlist  {mlist}
Settings change through site.lists.update(mlist, name=value); Ctrl-D leaves."""


@click.command()
@click.option("-l", "--list", "name", metavar="LIST", help="Load LIST as ``mlist``.")
@click.option("-r", "--run", "target", metavar="CALLABLE",
              help="Call package.module.function(site, mlist) and print its result.")  # fmt: skip
@pass_cli
def command(cli: CliContext, name: str | None, target: str | None) -> None:
    """Open an interactive Python shell on the site, or run one function."""
    site = cli.site
    mlist = site.lists.require(name) if name is not None else None
    if target is not None:
        try:
            function = import_dotted(target)
        except RegistryError as error:
            raise click.ClickException(str(error)) from None
        if not callable(function):
            raise click.ClickException(f"{target} is not callable")
        result = function(site, mlist)
        if result is not None:
            click.echo(result if isinstance(result, str) else repr(result))
        return
    namespace: dict[str, Any] = {"site": site, "mlist": mlist}
    shown = mlist.fqdn_listname if mlist is not None else "None (use -l LIST to load one)"
    banner = BANNER.format(site_file=cli.config.site_file or "built-in defaults", mlist=shown)
    code.interact(banner=banner, local=namespace, exitmsg="")


command.name = "shell"
