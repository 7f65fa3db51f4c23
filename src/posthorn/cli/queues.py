"""``posthorn queues``: how much is waiting where, and for how long.

Every queue the configured backend knows is listed.  ``shunt``, ``bad``, ``dead``
(posts the MTA refused as a whole) and ``hold`` (``posthorn queue hold``) are always
listed, even before their first entry: no runner reads them, and a growing count or an
old oldest entry there is what an administrator watches for.
"""

from __future__ import annotations

import json
from typing import Any

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.queuing import queue_store

# The queues no runner reads, where entries wait for a person.
PARKED = ("bad", "dead", "hold", "shunt")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def command(cli: CliContext, as_json: bool) -> None:
    """Count the entries of every queue (waiting, being processed) and the oldest's age."""
    store = queue_store(cli.existing_config)
    names = sorted({*store.names(), *PARKED})
    rows: list[dict[str, Any]] = []
    for name in names:
        if not store.exists(name):
            rows.append({"queue": name, "queued": 0, "claimed": 0, "oldest": None})
            continue
        with store.open(name) as board:
            queued = board.count()
            claimed = sum(1 for entry in board.entries() if entry.state == "claimed")
            row: dict[str, Any] = {"queue": name, "queued": queued, "claimed": claimed}
            rows.append({**row, "oldest": board.oldest_age()})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'QUEUE':<12} {'QUEUED':>8} {'CLAIMED':>8} {'OLDEST':>8}")
    for row in rows:
        click.echo(
            f"{row['queue']:<12} {row['queued']:>8} {row['claimed']:>8} {_age(row['oldest']):>8}"
        )


command.name = "queues"
