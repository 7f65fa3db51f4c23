"""Things in a queue folder that are not entries, met by a real runner under its master.

A directory, a FIFO and a symbolic link named like entries, claimed (``.bak``) and
waiting (``.pck``), plus temporary files of a dead and of a live writer: the runner
must set aside each odd thing with one log line, never block, never crash, and go on
with the real entries.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from posthorn.queues import Switchboard
from posthorn.queues.naming import make_filebase
from tests.runners.harness import PosthornSite, sample
from tests.waiting import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path: Path) -> Iterator[PosthornSite]:
    posthorn = PosthornSite(tmp_path)
    try:
        yield posthorn
    finally:
        posthorn.kill_everything()


# Entry names that sort before any entry enqueued now.
NAMES = {n: make_filebase(b"odd", 1_000_000_000_000_000_000 + n) for n in range(1, 8)}


def _name(n: int) -> str:
    return NAMES[n]


def test_odd_things_are_set_aside_and_the_runner_goes_on(site: PosthornSite) -> None:
    site.configure({"alpha": {"class": sample("Recorder"), "max_restarts": "3"}})
    queue_dir = site.var / "queue" / "alpha"
    queue = Switchboard(queue_dir)
    odd = {
        "dir-claimed": queue_dir / f"{_name(1)}.bak",
        "fifo-claimed": queue_dir / f"{_name(2)}.bak",
        "dead-tmp": queue_dir / f"{_name(3)}.pck.tmp",
        "live-tmp": queue_dir / f"{_name(4)}.pck.tmp",
    }
    odd["dir-claimed"].mkdir()
    os.mkfifo(odd["fifo-claimed"])
    odd["dead-tmp"].write_bytes(b"half an entry")
    odd["live-tmp"].write_bytes(b"being written")
    writer = os.open(odd["live-tmp"], os.O_RDONLY)
    fcntl.flock(writer, fcntl.LOCK_EX)
    try:
        queue.enqueue(b"Subject: before\n\nx\n")
        site.start()
        (row,) = site.wait_running(1, "alpha")
        wait_for(lambda: len(site.records("alpha", "processed")) == 1, "the first entry")
        assert not odd["dead-tmp"].exists()
        assert odd["live-tmp"].exists()

        # Odd things turning up while the runner works, ahead of a real entry.
        late_dir = queue_dir / f"{_name(5)}.pck"
        late_fifo = queue_dir / f"{_name(6)}.pck"
        late_link = queue_dir / f"{_name(7)}.pck"
        late_dir.mkdir()
        os.mkfifo(late_fifo)
        late_link.symlink_to("/etc/passwd")
        began = time.monotonic()
        queue.enqueue(b"Subject: after\n\nx\n")
        wait_for(lambda: len(site.records("alpha", "processed")) == 2, "the entry after them")
        print(f"the entry behind a directory, a FIFO and a link: {time.monotonic() - began:.2f}s")
    finally:
        os.close(writer)
    (still,) = site.runners("alpha")
    assert still["pid"] == row["pid"] and still["restarts"] == 0
    bad = {path.name for path in (site.var / "queue" / "bad").iterdir()}
    for path in (odd["dir-claimed"], odd["fifo-claimed"], late_dir, late_fifo, late_link):
        assert not os.path.lexists(path), path.name
    assert {f"{_name(n)}.bak" for n in (1, 2)} <= bad
    assert {f"{_name(n)}.pck" for n in (5, 6, 7)} <= bad
    log = site.log("alpha")
    assert "is a directory, not a regular file; moved to" in log
    assert "is a FIFO, not a regular file; moved to" in log
    assert "is a symbolic link" in log
    assert "left by a writer that died" in log
    assert "Traceback" not in log
