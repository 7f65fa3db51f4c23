"""``posthorn status``: the master and every runner process, with their queue depths.

The master writes its state file whenever a runner starts or exits; this command reads
it, checks that each pid it names is still alive, and counts each runner's slice of its
queue itself, so the depth is current rather than as of the last change.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.config import Config
from posthorn.interfaces.queues import IQueueStore
from posthorn.queuing import queue_store
from posthorn.runstate import MasterFiles, NotRunning, ProcessId, read_state, running_master

GIVEN_UP = "given-up"
COLUMNS = ("RUNNER", "SLICE", "PID", "STATE", "UPTIME", "RESTARTS", "QUEUE", "LAST EXIT")


def _depth(store: IQueueStore, row: dict[str, Any]) -> int | None:
    """Entries waiting in this runner's slice; None for a service runner."""
    if not row.get("queue"):
        return None
    return store.depth(str(row["queue"]), slice=int(row["slice"]), count=int(row["count"]))


def _report(config: Config) -> dict[str, Any]:
    master = running_master(config)
    state = read_state(MasterFiles.of(config).state) if master is not None else None
    if master is None or state is None:
        raise NotRunning("Posthorn is not running")
    now = time.time()
    store = queue_store(config)
    state["master"]["uptime"] = now - float(state["master"]["started"])
    for row in state["runners"]:
        alive = row["pid"] is not None and ProcessId(int(row["pid"]), None).alive()
        row["alive"] = alive
        row["uptime"] = now - float(row["started"]) if alive and row["started"] else None
        row["queue_depth"] = _depth(store, row)
        if row["pid"] is not None and not alive:
            row["state"] = "gone"
    state["running"] = True
    return state


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    text = f"{rest // 3600}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}d {text}" if days else text


def _table(state: dict[str, Any]) -> str:
    master = state["master"]
    lines = [
        f"master: pid {master['pid']}, up {_duration(master['uptime'])}, "
        f"config {master.get('config') or '(built-in defaults)'}"
    ]
    rows = [COLUMNS]
    for row in state["runners"]:
        depth = row["queue_depth"]
        rows.append(
            (
                row["name"],
                f"{row['slice']}/{row['count']}",
                str(row["pid"] or "-"),
                "GIVEN UP" if row["state"] == GIVEN_UP else row["state"],
                _duration(row["uptime"]),
                str(row["restarts"]),
                "-" if depth is None else str(depth),
                row["last_exit"] or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    # A given-up runner's queue fills up unseen: say so where nobody can miss it.
    lines += [
        f"GIVEN UP: {row['name']} {row['slice']}/{row['count']} crashed "
        f"{row.get('crashes', '?')} times within [master] crash_window and is not "
        "restarted; see its log, then 'posthorn restart'"
        for row in state["runners"]
        if row["state"] == GIVEN_UP
    ]
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@pass_cli
def command(cli: CliContext, as_json: bool) -> None:
    """Show the master and each runner: slice, pid, uptime, restarts, queue depth."""
    state = _report(cli.config)
    click.echo(json.dumps(state, indent=2) if as_json else _table(state))


command.name = "status"
