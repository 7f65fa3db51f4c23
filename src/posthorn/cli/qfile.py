"""``posthorn qfile``: show a queue entry (metadata and message) to a person.

It reads the file without claiming it, so it is safe on a running site; the entry is
loaded with the queue's own restricted unpickler, never a general one.
"""

from __future__ import annotations

import pprint
from pathlib import Path

import click

from posthorn.queues.entry import FormatError, read_entry, read_metadata


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-m", "--metadata-only", is_flag=True, help="Leave out the message.")
def command(paths: tuple[Path, ...], metadata_only: bool) -> None:
    """Print the metadata and message of each queue FILE (.pck, .bak, or in shunt/bad)."""
    failed = 0
    for path in paths:
        try:
            with path.open("rb") as fp:
                if metadata_only:
                    msgdata, data = read_metadata(fp), b""
                else:
                    data, msgdata = read_entry(fp)
        except (OSError, FormatError) as error:
            click.echo(f"{path}: cannot read: {error}", err=True)
            failed += 1
            continue
        click.echo(f"==> {path} <==\n[metadata]")
        click.echo(pprint.pformat(msgdata, sort_dicts=True, width=88))
        if not metadata_only:
            click.echo("[message]")
            click.echo(data.decode("utf-8", "replace"))
    if failed:
        raise SystemExit(1)


command.name = "qfile"
