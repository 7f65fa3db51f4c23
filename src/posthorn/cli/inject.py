"""``posthorn inject LIST [FILE]``: queue a message for a list, as Mailman's ``inject``.

The message (FILE, or standard input) goes into the list's ``incoming`` queue, or the
queue ``--queue`` names, as if the MTA had delivered it to the posting address: the
runners take it from there.  Useful to replay a post or to test a list without an MTA.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.errors import PosthornError
from posthorn.injection import inject
from posthorn.queuing import queue_store


@click.command()
@click.argument("listname")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-q", "--queue", default="incoming", show_default=True, help="The queue to use.")
@pass_cli
def command(cli: CliContext, listname: str, file: Path | None, queue: str) -> None:
    """Put the message in FILE (default: standard input) into a queue for LISTNAME."""
    site = cli.site
    mlist = site.lists.require(listname)
    runners = set(site.config.named("runner"))
    folders = set(queue_store(site.config).names())
    if queue not in runners | folders:
        known = ", ".join(sorted(runners | folders))
        raise PosthornError(f"no queue {queue!r} (queues: {known})")
    try:
        raw = file.read_bytes() if file is not None else sys.stdin.buffer.read()
    except OSError as error:
        raise PosthornError(f"cannot read {file}: {error.strerror}") from None
    entry = inject(site, mlist, raw, queue)
    click.echo(f"Queued {entry} in {queue} for {mlist.fqdn_listname}")


command.name = "inject"
