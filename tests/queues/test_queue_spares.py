"""Spare files: a finished entry's file holds the next entry, and nothing else changes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from posthorn.queues import EntryGone, Switchboard
from posthorn.queues import spares as spares_module
from posthorn.queues.spares import EMPTY_PAUSE, MAX_SIZE, PREFIX, SLOTS

pytestmark = pytest.mark.timeout(30)

RAW = b"From: anne@example.org\r\nSubject: spare\r\n\r\nbody\r\n"


def spares(queue: Switchboard) -> list[Path]:
    return sorted(p for p in queue.queue_dir.iterdir() if p.name.startswith(PREFIX))


def leave_a_spare(queue: Switchboard) -> int:
    """Finish an entry, so that its file stays as a spare; return the file's inode."""
    filebase = queue.enqueue(RAW)
    queue.dequeue_raw(filebase)
    inode = (queue.queue_dir / f"{filebase}.bak").stat().st_ino
    queue.finish(filebase)
    return inode


def take_a_spare(queue: Switchboard) -> Path:
    """Leave a spare and let the next entry's writer take it ahead; return its name."""
    leave_a_spare(queue)
    queue.enqueue(RAW)
    (taken,) = spares(queue)
    return taken


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that found no spare looks again at its next entry."""
    monkeypatch.setattr(spares_module, "EMPTY_PAUSE", 0.0)


@pytest.mark.usefixtures("no_pause")
def test_a_spare_is_written_over_only_after_a_directory_fsync_covers_its_take(
    incoming: Switchboard,
) -> None:
    first = incoming.enqueue(RAW * 50, {"n": 1})
    incoming.dequeue_raw(first)
    claimed = incoming.queue_dir / f"{first}.bak"
    inode = claimed.stat().st_ino
    size = claimed.stat().st_size
    incoming.finish(first)
    (spare,) = spares(incoming)
    assert spare.stat().st_ino == inode
    # Until a directory fsync has made the renames away from the old entry's name
    # durable, the spare is only taken, not written: the entry gets a file of its own.
    second = incoming.enqueue(RAW, {"n": 2}, durable=False)
    assert (incoming.queue_dir / f"{second}.pck").stat().st_ino != inode
    (taken,) = spares(incoming)
    assert taken.name.endswith(".tmp") and taken.stat().st_ino == inode
    assert taken.stat().st_size == size
    incoming.sync()
    third = incoming.enqueue(RAW, {"n": 3})
    entry = incoming.queue_dir / f"{third}.pck"
    assert entry.stat().st_ino == inode and spares(incoming) == []
    # Shorter than what the file held before: nothing of the old entry is left in it.
    assert entry.stat().st_size < size
    data, msgdata = incoming.dequeue_raw(third)
    assert data == RAW and msgdata["n"] == 3
    assert entry.with_suffix(".bak").stat().st_mode & 0o777 == 0o600


@pytest.mark.usefixtures("no_pause")
def test_an_entry_longer_than_the_spare_it_reuses_is_whole(incoming: Switchboard) -> None:
    inode = leave_a_spare(incoming)
    incoming.enqueue(RAW)
    long = incoming.enqueue(RAW * 500, {"n": 2})
    assert (incoming.queue_dir / f"{long}.pck").stat().st_ino == inode
    data, msgdata = incoming.dequeue_raw(long)
    assert data == RAW * 500 and msgdata["n"] == 2


@pytest.mark.usefixtures("no_pause")
def test_a_closed_queue_gives_its_taken_spares_back(incoming: Switchboard) -> None:
    inode = take_a_spare(incoming).stat().st_ino
    incoming.close()
    (spare,) = spares(incoming)
    assert not spare.name.endswith(".tmp") and spare.stat().st_ino == inode


@pytest.mark.usefixtures("no_pause")
def test_a_taken_spare_left_by_a_dead_writer_is_tidied(incoming: Switchboard) -> None:
    leave_a_spare(incoming)
    writer = Switchboard(incoming.queue_dir)
    writer.enqueue(RAW)
    (taken,) = spares(incoming)
    # While its writer lives, it holds the lock: tidying leaves it alone.
    assert incoming.tidy() == 0 and taken.exists()
    # The writer dies without closing its queue: its descriptors close, the lock goes.
    for spare, _ in writer._spares._reserve:
        os.close(spare.fd)
    writer._spares._reserve = []
    assert incoming.tidy() == 1 and not taken.exists()


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


def test_a_writer_that_found_no_spare_looks_again_only_after_a_pause(
    incoming: Switchboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    leave_a_spare(incoming)
    # The enqueue before the finish found no spare: the next one does not look.
    incoming.enqueue(RAW)
    (spare,) = spares(incoming)
    assert not spare.name.endswith(".tmp")
    now[0] += EMPTY_PAUSE
    incoming.enqueue(RAW)
    (taken,) = spares(incoming)
    assert taken.name.endswith(".tmp")


@pytest.mark.usefixtures("no_pause")
def test_a_forked_child_leaves_its_parents_taken_spares_alone(incoming: Switchboard) -> None:
    inode = take_a_spare(incoming).stat().st_ino
    child = os.fork()
    if child == 0:
        # Written into a file of its own, not into the parent's reserve.
        filebase = incoming.enqueue(RAW)
        os._exit(0 if (incoming.queue_dir / f"{filebase}.pck").stat().st_ino != inode else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    third = incoming.enqueue(RAW)
    assert (incoming.queue_dir / f"{third}.pck").stat().st_ino == inode
