"""Waking: a reader in another process wakes on an enqueue, not on a timer."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from posthorn.queues import Switchboard
from posthorn.queues.naming import slice_of
from posthorn.queues.wakeup import DirectoryWatcher

if TYPE_CHECKING:
    from conftest import Workers

pytestmark = pytest.mark.timeout(30)

RAW = b"Subject: wake up\n\n"


@pytest.mark.slow
def test_a_reader_in_another_process_wakes_on_enqueue(queue_root: Path, workers: Workers) -> None:
    queue = Switchboard(queue_root / "incoming")
    # The reader would wait 20 s if it were polling; it must wake long before that.
    reader = workers.start("wait", "--dir", str(queue.queue_dir), "--timeout", "20")
    assert workers.read_line(reader) == "waiting"
    queue.enqueue(RAW)
    enqueued = time.monotonic_ns()
    woke, when = workers.read_line(reader).split()
    assert woke == "True"
    assert (int(when) - enqueued) / 1e9 < 1.0
    assert reader.wait(timeout=10) == 0


def test_wait_times_out_on_an_empty_queue(incoming: Switchboard) -> None:
    started = time.monotonic()
    assert incoming.wait(0.2) is False
    assert time.monotonic() - started >= 0.19


def test_wait_returns_at_once_when_entries_are_waiting(incoming: Switchboard) -> None:
    incoming.enqueue(RAW)
    started = time.monotonic()
    assert incoming.wait(10) is True
    assert time.monotonic() - started < 5


def test_entries_of_other_slices_do_not_wake(queue_root: Path) -> None:
    writer = Switchboard(queue_root / "incoming")
    reader = Switchboard(queue_root / "incoming", slice=1, count=2)
    reader.wait(0)
    # Enqueue until an entry lands in slice 0 only.
    while True:
        filebase = writer.enqueue(RAW)
        if slice_of(filebase, 2) == 1:
            writer.dequeue(filebase)
            writer.finish(filebase)
        else:
            break
    assert reader.wait(0.2) is False
    reader.close()


def test_a_stop_descriptor_ends_the_wait(incoming: Switchboard) -> None:
    read_end, write_end = os.pipe()
    try:
        timer = threading.Timer(0.1, os.write, (write_end, b"x"))
        started = time.monotonic()
        timer.start()
        assert incoming.wait(20, stop_fd=read_end) is False
        assert time.monotonic() - started < 10
        timer.join()
    finally:
        os.close(read_end)
        os.close(write_end)


def test_closed_watcher_sleeps_out_the_timeout_and_honours_stop(tmp_path: Path) -> None:
    watcher = DirectoryWatcher(tmp_path)
    assert watcher.active
    watcher.close()
    assert watcher.fileno() == -1
    started = time.monotonic()
    assert watcher.wait(0.1) is True
    assert time.monotonic() - started >= 0.09
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"x")
        assert watcher.wait(20, stop_fd=read_end) is False
    finally:
        os.close(read_end)
        os.close(write_end)


def test_watcher_ignores_temporary_files(tmp_path: Path) -> None:
    with DirectoryWatcher(tmp_path) as watcher:
        (tmp_path / "entry.pck.tmp").write_bytes(b"x")
        assert watcher.wait(0.1) is False
        (tmp_path / "entry.pck.tmp").rename(tmp_path / "entry.pck")
        assert watcher.wait(5) is True
