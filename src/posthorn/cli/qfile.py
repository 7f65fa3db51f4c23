"""``posthorn qfile``: show a queue entry (metadata and message) to a person.

An entry is named by its id (as ``posthorn queue list`` shows it), in whichever queue
it waits, or on the files backend by the path of its file.  It is read without being
claimed, so this is safe on a running site; the entry is loaded with the queue's own
restricted unpickler, never a general one.
"""

from __future__ import annotations

import pprint

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.queues import QueueError
from posthorn.queuing import queue_store


@click.command()
@click.argument("entries", nargs=-1, required=True)
@click.option("-m", "--metadata-only", is_flag=True, help="Leave out the message.")
@pass_cli
def command(cli: CliContext, entries: tuple[str, ...], metadata_only: bool) -> None:
    """Print the metadata and message of each queue ENTRY (an id, or an entry file)."""
    store = queue_store(cli.config)
    failed = 0
    for ref in entries:
        try:
            data, msgdata = store.peek(ref)
        except QueueError as error:
            click.echo(f"{ref}: {error}", err=True)
            failed += 1
            continue
        click.echo(f"==> {ref} <==\n[metadata]")
        click.echo(pprint.pformat(msgdata, sort_dicts=True, width=88))
        if not metadata_only:
            click.echo("[message]")
            click.echo(data.decode("utf-8", "replace"))
    if failed:
        raise SystemExit(1)


command.name = "qfile"
