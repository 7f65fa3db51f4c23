"""``posthorn import``: bring lists over from GNU Mailman 3 or Mailman 2.1.

Both read the old site only, then make this site match it: running again changes
nothing, and a run after changes on the old site brings just those.  ``--dry-run``
prints each change it would make and writes nothing.  A progress bar shows on a
terminal; the run ends with what had no place here and a summary table.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.importers.apply import apply
from posthorn.importers.description import SiteData
from posthorn.importers.mailman3 import read_mailman3
from posthorn.importers.mailman21 import read_config_pck
from posthorn.importers.tally import Tally
from posthorn.site import Site

__all__ = ["command"]

_DRY_RUN = click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")


@click.group("import")
def command() -> None:
    """Import lists, members and requests from GNU Mailman 3 or Mailman 2.1."""


@command.command("mailman3")
@click.option(
    "--database", "url", required=True, help="The Mailman database, as an SQLAlchemy URL."
)
@click.option(
    "--var",
    "var_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Mailman's var/ folder, for held messages and template files.",
)
@click.option("--list", "lists", multiple=True, help="Import only this list (repeatable).")
@_DRY_RUN
@pass_cli
def mailman3(
    cli: CliContext, url: str, var_dir: Path | None, lists: tuple[str, ...], dry_run: bool
) -> None:
    """Import a GNU Mailman 3.2/3.3 site, or some of its lists."""
    data = read_mailman3(url, var_dir, lists)
    missing = set(name.lower() for name in lists) - {
        name for mlist in data.lists for name in (mlist.list_id, mlist.fqdn_listname)
    }
    if missing:
        raise click.ClickException(f"no such list on the old site: {', '.join(sorted(missing))}")
    run(cli.new_site, data, dry_run)


@command.command("mailman21")
@click.argument("fqdn_listname")
@click.argument("config_pck", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DRY_RUN
@pass_cli
def mailman21(cli: CliContext, fqdn_listname: str, config_pck: Path, dry_run: bool) -> None:
    """Import one Mailman 2.1 list, as FQDN_LISTNAME, from its CONFIG_PCK."""
    run(cli.new_site, read_config_pck(fqdn_listname, config_pck), dry_run)


def run(site: Site, data: SiteData, dry_run: bool) -> None:
    """Apply ``data`` with a progress bar on a terminal, then print the report."""
    tally = Tally(dry_run=dry_run, echo=click.echo)
    hashed = sum(1 for user in data.users if user.plain_password and not user.password)
    total = hashed + len(data.addresses) + sum(len(mlist.members) for mlist in data.lists)
    with ExitStack() as stack:
        # A bar only where someone watches: on a pipe or in a log it is noise.
        if sys.stdout.isatty() and not dry_run:
            bar = stack.enter_context(click.progressbar(length=total, label="Importing"))
            tally.progress = bar.update
        apply(site, data, tally)
    click.echo(f"From {data.source}:")
    for item in data.unmapped:
        click.echo(f"  no place here: {item.where}: {item.name} = {item.value}")
    for problem in tally.problems:
        click.echo(f"  not imported: {problem}")
    click.echo(tally.table())
    if dry_run:
        click.echo("Dry run: nothing was written.")
