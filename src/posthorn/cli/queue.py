"""``posthorn queue``: single queue entries, as Postfix's postqueue -p and postsuper.

``list`` shows each entry (id, queue, state, age, size, list, Message-ID); ``delete``,
``hold``, ``release`` and ``requeue`` act on entries by id.  The work is done by the
site's queue store (``posthorn.queuing``); this module only parses and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.cli.tables import json_option, print_table
from posthorn.queues import QueueError
from posthorn.queuing import queue_store

COLUMNS = ("id", "queue", "state", "age", "size", "list_id", "message_id")


@click.group()
def command() -> None:
    """List queue entries; delete, hold, release or re-queue one by id."""


@command.command("list")
@click.argument("queues", nargs=-1)
@json_option
@pass_cli
def list_(cli: CliContext, queues: tuple[str, ...], as_json: bool) -> None:
    """Every entry of QUEUES (default: all), oldest first (as postqueue -p)."""
    store = queue_store(cli.existing_config)
    names = list(queues) or store.names()
    rows = [asdict(entry) for entry in store.list_entries(names)]
    for row in rows:
        row["age"] = round(row["age"])
    print_table(COLUMNS, rows, as_json)


def _each(cli: CliContext, ids: tuple[str, ...], act: Callable[[str], str]) -> None:
    failed = 0
    for entry_id in ids:
        try:
            click.echo(f"{entry_id}: {act(entry_id)}")
        except QueueError as error:
            click.echo(f"{entry_id}: {error}", err=True)
            failed += 1
    if failed:
        raise SystemExit(1)


@command.command()
@click.argument("ids", nargs=-1, required=True)
@pass_cli
def delete(cli: CliContext, ids: tuple[str, ...]) -> None:
    """Remove entries for good (as postsuper -d)."""
    store = queue_store(cli.existing_config)
    _each(cli, ids, lambda i: f"deleted from {store.delete(i)}")


@command.command()
@click.argument("ids", nargs=-1, required=True)
@pass_cli
def hold(cli: CliContext, ids: tuple[str, ...]) -> None:
    """Move entries to queue hold, which no runner reads (as postsuper -h)."""
    store = queue_store(cli.existing_config)
    _each(cli, ids, lambda i: f"held (was in {store.hold(i)})")


@command.command()
@click.argument("ids", nargs=-1, required=True)
@pass_cli
def release(cli: CliContext, ids: tuple[str, ...]) -> None:
    """Put held entries back in the queue they were held from (as postsuper -H)."""
    store = queue_store(cli.existing_config)
    _each(cli, ids, lambda i: f"released to {store.release(i)}")


@command.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--to", "target", help="The queue to send them to (default: their own).")
@pass_cli
def requeue(cli: CliContext, ids: tuple[str, ...], target: str | None) -> None:
    """Send any entries (held, shunted, dead ...) to a queue afresh (as postsuper -r)."""
    store = queue_store(cli.existing_config)
    _each(cli, ids, lambda i: "requeued from {} to {}".format(*store.requeue(i, target)))


command.name = "queue"
