"""``posthorn aliases``: write the MTA's tables for the lists (Postfix and Exim)."""

from __future__ import annotations

from pathlib import Path

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.mta.aliases import postmap_argv, write_aliases


@click.command()
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the files here instead of [paths] data_dir.",
)
@pass_cli
def command(cli: CliContext, output_dir: Path | None) -> None:
    """Write the Postfix transport and relay_domains maps and an Exim router.

    The files are rewritten whenever a list is created or removed; run this after
    changing [mta] lmtp_host or lmtp_port, or to repair them by hand.
    """
    site = cli.site
    for path in write_aliases(site, output_dir):
        click.echo(str(path))
    if site.config["mta"].get_str("postmap_command") and postmap_argv(site.config) is None:
        click.echo("postmap not found: the hash: tables' .db files were not rebuilt "
                   "(install Postfix, or set [mta] postmap_command)", err=True)  # fmt: skip


command.name = "aliases"
