"""Processes killed with SIGKILL: nothing accepted is lost, nothing partial is visible."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from posthorn.queues import ATTEMPTS_KEY, REASON_KEY, WHICHQ_KEY, Switchboard
from posthorn.queues.entry import decode
from posthorn.queues.spares import PREFIX

if TYPE_CHECKING:
    from conftest import Workers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

RAW = b"Subject: poison\n\nthis message kills its reader\n"


def kill_reader_mid_entry(queue_dir: Path, workers: Workers) -> str:
    """Have a separate reader claim the oldest entry, then SIGKILL it before finish."""
    process = workers.start("claim", "--dir", str(queue_dir))
    _, filebase = workers.read_line(process).split()
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    return filebase


def test_a_killed_reader_leaves_a_backup_that_is_delivered_again(
    queue_root: Path, workers: Workers
) -> None:
    queue = Switchboard(queue_root / "incoming")
    filebase = queue.enqueue(RAW, {"listid": "x"})
    assert kill_reader_mid_entry(queue.queue_dir, workers) == filebase
    assert [(e.filebase, e.state) for e in queue.entries()] == [(filebase, "claimed")]
    assert queue.files == []

    restarted = Switchboard(queue_root / "incoming")
    assert restarted.recover_backup_files() == 1
    assert restarted.files == [filebase]
    data, msgdata = restarted.dequeue_raw(filebase)
    assert data == RAW
    assert msgdata[ATTEMPTS_KEY] == 1
    assert msgdata["listid"] == "x"


def test_a_poison_entry_is_shunted_then_unshunted(queue_root: Path, workers: Workers) -> None:
    queue = Switchboard(queue_root / "incoming", max_attempts=3)
    filebase = queue.enqueue(RAW, {"listid": "x"})
    for attempt in (1, 2, 3):
        kill_reader_mid_entry(queue.queue_dir, workers)
        recovered = queue.recover_backup_files()
        assert recovered == (1 if attempt < 3 else 0)
    assert queue.entries() == []

    shunt = Switchboard(queue_root / "shunt")
    assert shunt.files == [filebase]
    _, msgdata = decode((shunt.queue_dir / f"{filebase}.pck").read_bytes())
    assert msgdata[WHICHQ_KEY] == "incoming"
    assert msgdata[ATTEMPTS_KEY] == 3
    assert "gave up after 3" in msgdata[REASON_KEY]

    assert shunt.unshunt() == [(filebase, "incoming")]
    assert shunt.entries() == []
    assert queue.files == [filebase]
    data, msgdata = queue.dequeue_raw(filebase)
    assert data == RAW
    assert ATTEMPTS_KEY not in msgdata
    assert REASON_KEY not in msgdata
    assert msgdata["listid"] == "x"


def test_unshunt_leaves_entries_without_a_queue(queue_root: Path) -> None:
    shunt = Switchboard(queue_root / "shunt")
    kept = [
        shunt.enqueue(RAW),  # whichq is "shunt" itself
        Switchboard(queue_root / "shunt", name="../etc").enqueue(RAW),
    ]
    assert shunt.unshunt() == []
    assert shunt.files == sorted(kept)
    assert sorted(p.name for p in queue_root.iterdir()) == ["shunt"]


def test_a_killed_writer_never_leaves_a_partial_entry(queue_root: Path, workers: Workers) -> None:
    queue_dir = queue_root / "incoming"
    size = 256 * 1024
    rng = random.Random(os.getpid() ^ time.time_ns())
    reader = Switchboard(queue_dir)
    loaded = 0
    for _ in range(25):
        process = workers.start("enqueue-loop", "--dir", str(queue_dir), "--size", str(size))
        assert workers.read_line(process) == "ready"
        # A random moment inside the write/fsync/rename cycle.
        time.sleep(rng.uniform(0, 0.05))
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
        for filebase in reader.files:
            data, msgdata = reader.dequeue_raw(filebase)
            assert len(data) == msgdata["size"] > size
            reader.finish(filebase)
            loaded += 1
    assert loaded >= 25
    assert not reader.bad_dir.exists()
    leftovers = [p.name for p in queue_dir.iterdir() if not p.name.startswith(PREFIX)]
    assert all(name.endswith(".pck.tmp") for name in leftovers)
