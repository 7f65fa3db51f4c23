"""Runners of an earlier master: found, given time to finish, ended, before new ones start.

A master killed outright (SIGKILL, the OOM killer) leaves its runners behind.  Each
gets SIGTERM from the kernel (the parent-death signal) and exits, but only after the
entry in hand: an outgoing runner inside a slow SMTP transaction may take minutes.  A
new master that started runners meanwhile would have two readers on one queue: the
new one recovers the old one's claimed entry and delivers it a second time, and the
old one then finishes (removes) an entry that is no longer its own.

So ``posthorn start`` (with or without ``--force``), once it holds the master lock and
before it starts any runner, looks for the earlier master's processes: the runners its
state file names, and every member of its process group (the master leads one).  A
process counts only while its start time (``/proc/PID/stat``) says it is the very
process recorded -- or, for a group member, one that started after that master, runs
as us and runs Posthorn -- so a reused pid is never signalled.  Each gets SIGTERM
(finish the entry in hand, then exit), up to ``[master] stop_timeout`` to do so, and
SIGKILL after that; a killed runner's entry is recovered by the new runner, at least
once as always.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

from posthorn.runstate import MasterFiles, ProcessId, read_pid_file, read_state, start_ticks

__all__ = ["earlier_processes", "end_earlier_processes", "lead_process_group"]

# After SIGKILL a process is gone within moments; this only bounds a stuck kernel.
KILL_WAIT = 5.0


def lead_process_group() -> None:
    """Lead a process group of our own, which every runner joins.

    A later master finds this master's runners by the group even without the state
    file.  Not when we run in the foreground of a terminal: leaving its process
    group would cut us off from Ctrl-C.
    """
    if os.getpgrp() == os.getpid():
        return
    with contextlib.suppress(OSError):
        if os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp():
            return
    os.setpgid(0, 0)


def earlier_processes(files: MasterFiles) -> list[ProcessId]:
    """The live processes of the master that wrote ``files`` (itself included)."""
    state = read_state(files.state) or {}
    master_info: dict[str, Any] = state.get("master") or {}
    if master_info.get("host") not in (None, socket.gethostname()):
        return []  # a var/ shared with another host: its pids mean nothing here
    recorded = read_pid_file(files.pid)
    if master_info.get("pid"):
        master: ProcessId | None = ProcessId(int(master_info["pid"]), master_info.get("start"))
    else:
        master = recorded
    found: dict[int, ProcessId] = {}
    for row in state.get("runners") or []:
        if row.get("pid"):
            _add(found, ProcessId(int(row["pid"]), row.get("start")))
    if master is not None:
        _add(found, master)
        leader = master_info.get("pgid") == master.pid or master_info == {}
        if leader and (master.alive() or start_ticks(master.pid) is None):
            for member in _group(master):
                _add(found, member)
    return sorted(found.values(), key=lambda process: process.pid)


def _add(found: dict[int, ProcessId], process: ProcessId) -> None:
    """Keep ``process`` if it is that very process, still alive, ours, and Posthorn."""
    if process.pid in (os.getpid(), os.getppid()) or process.start is None:
        return
    entry = Path(f"/proc/{process.pid}")
    if process.alive() and _owner(entry) == os.geteuid() and b"posthorn" in _command_line(entry):
        found[process.pid] = process


def _group(master: ProcessId) -> list[ProcessId]:
    """Members of the process group ``master`` led that started after it."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(entry)
        if fields is None or int(fields[2]) != master.pid:
            continue
        start = int(fields[19])
        if master.start is None or start >= master.start:
            members.append(ProcessId(int(entry.name), start))
    return members


def _stat(entry: Path) -> list[str] | None:
    try:
        return (entry / "stat").read_text("ascii", "replace").rpartition(")")[2].split()
    except OSError:
        return None


def _owner(entry: Path) -> int | None:
    try:
        return entry.stat().st_uid
    except OSError:
        return None


def _command_line(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""


def end_earlier_processes(files: MasterFiles, *, timeout: float, log: logging.Logger) -> int:
    """SIGTERM the earlier master's processes, wait up to ``timeout``, SIGKILL the rest.

    Returns how many there were; logs what it does.
    """
    processes = earlier_processes(files)
    if not processes:
        return 0
    pids = ", ".join(str(process.pid) for process in processes)
    log.warning(
        "%d processes of an earlier master still run (pids %s); asking them to finish "
        "the entries in hand and exit, waiting up to %.0fs before any runner starts",
        len(processes),
        pids,
        timeout,
    )
    _signal(processes, signal.SIGTERM)
    began = time.monotonic()
    left = _wait(processes, began + timeout)
    if left:
        log.error(
            "pids %s did not exit within %.0fs; killing them (their entries are redone)",
            ", ".join(str(process.pid) for process in left),
            timeout,
        )
        _signal(left, signal.SIGKILL)
        left = _wait(left, time.monotonic() + KILL_WAIT)
    if left:
        raise OSError(f"processes of an earlier master survive SIGKILL: {left}")
    log.info("the earlier master's processes are gone after %.1fs", time.monotonic() - began)
    return len(processes)


def _signal(processes: list[ProcessId], signum: int) -> None:
    for process in processes:
        # Checked just before: a pid that has meanwhile ended is not signalled.
        if process.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signum)


def _wait(processes: list[ProcessId], deadline: float) -> list[ProcessId]:
    for process in processes:
        process.wait_gone(max(deadline - time.monotonic(), 0.0))
    return [process for process in processes if process.alive()]
