"""Spare files: a finished entry's file holds the next entry, and nothing else changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from posthorn.queues import EntryGone, Switchboard
from posthorn.queues.spares import MAX_SIZE, PREFIX, SLOTS

pytestmark = pytest.mark.timeout(30)

RAW = b"From: anne@example.org\r\nSubject: spare\r\n\r\nbody\r\n"


def spares(queue: Switchboard) -> list[Path]:
    return sorted(p for p in queue.queue_dir.iterdir() if p.name.startswith(PREFIX))


def test_the_next_entry_is_written_into_a_finished_entrys_file(incoming: Switchboard) -> None:
    first = incoming.enqueue(RAW * 50, {"n": 1})
    incoming.dequeue_raw(first)
    claimed = incoming.queue_dir / f"{first}.bak"
    inode = claimed.stat().st_ino
    incoming.finish(first)
    (spare,) = spares(incoming)
    assert spare.stat().st_ino == inode
    second = incoming.enqueue(RAW, {"n": 2})
    entry = incoming.queue_dir / f"{second}.pck"
    assert entry.stat().st_ino == inode and spares(incoming) == []
    # Shorter than what the file held before: nothing of the old entry is left in it.
    data, msgdata = incoming.dequeue_raw(second)
    assert data == RAW and msgdata["n"] == 2
    assert entry.with_suffix(".bak").stat().st_mode & 0o777 == 0o600


def test_spares_are_bounded_and_large_files_removed(incoming: Switchboard) -> None:
    names = [incoming.enqueue(RAW) for _ in range(3 * SLOTS)]
    for filebase in names:
        incoming.dequeue_raw(filebase)
        incoming.finish(filebase)
    assert 1 <= len(spares(incoming)) <= SLOTS
    for spare in spares(incoming):
        spare.unlink()
    large = incoming.enqueue(b"x" * (MAX_SIZE + 1))
    incoming.dequeue_raw(large)
    incoming.finish(large)
    assert spares(incoming) == [] and incoming.files == []


def test_a_spare_that_is_not_a_file_of_ours_is_left_alone(incoming: Switchboard) -> None:
    for slot in range(SLOTS):
        (incoming.queue_dir / f"{PREFIX}{slot}").mkdir()
    filebase = incoming.enqueue(RAW)
    assert incoming.dequeue_raw(filebase)[0] == RAW
    assert all(path.is_dir() for path in spares(incoming))
    assert len(spares(incoming)) == SLOTS


def test_a_finished_entry_that_is_gone_is_reported(incoming: Switchboard) -> None:
    filebase = incoming.enqueue(RAW)
    incoming.dequeue_raw(filebase)
    os.unlink(incoming.queue_dir / f"{filebase}.bak")
    with pytest.raises(EntryGone):
        incoming.finish(filebase)
