"""Appending with the mailbox kept open: what other processes did in between counts."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

from posthorn.digests import appending, mailbox
from tests.processes import REPO

ENTRY = b"From posthorn Thu Jan  1 00:00:00 2026\n\nbody\n\n"


def append_elsewhere(path: Path, *keys: str, keep: int = appending.SEEN_KEEP) -> None:
    """Append one entry per key from another process (whose SEEN_KEEP is ``keep``)."""
    code = (
        "from pathlib import Path\n"
        "from posthorn.digests import appending\n"
        f"appending.SEEN_KEEP = {keep}\n"
        f"for key in {list(keys)!r}:\n"
        f"    appending.append(Path({str(path)!r}), {ENTRY!r}, key)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_a_post_another_process_appended_is_not_appended_again(tmp_path: Path) -> None:
    path = mailbox.digest_mailbox(tmp_path, "dev.example.org")
    size = appending.append(path, ENTRY, "A")  # this process has the mailbox open now
    append_elsewhere(path, "B")
    assert path.stat().st_size == 2 * size
    # The redone post, here: B is read from what the other process added.
    assert appending.append(path, ENTRY, "B") == 2 * size
    assert appending.append(path, ENTRY, "A") == 2 * size
    assert appending.append(path, ENTRY, "C") == 3 * size == path.stat().st_size
    assert path.with_suffix(".seen").read_text().split() == ["A", "B", "C"]


def test_names_trimmed_by_another_process_are_read_again(tmp_path: Path) -> None:
    path = mailbox.digest_mailbox(tmp_path, "dev.example.org")
    appending.append(path, ENTRY, "A")
    # Trimmed to its last name each time it grows past two: the file is replaced.
    append_elsewhere(path, "B", "C", "D", keep=1)
    seen = path.with_suffix(".seen")
    assert "A" not in seen.read_text().split()
    size = path.stat().st_size
    assert appending.append(path, ENTRY, "D") == size  # named in the new file
    appending.append(path, ENTRY, "E")
    # Written to the names file at the path, not to the one replaced.
    assert seen.read_text().split()[-1] == "E"


def test_a_mailbox_rotated_since_the_last_post_gets_the_next(tmp_path: Path) -> None:
    path = mailbox.digest_mailbox(tmp_path, "dev.example.org")
    appending.append(path, ENTRY, "A")
    rotated = mailbox.rotate(path, lambda: tmp_path / "pending" / "1.mbox")
    assert rotated is not None
    appending.append(path, ENTRY, "B")
    assert rotated.read_bytes() == ENTRY
    assert path.read_bytes() == ENTRY
    # The names outlive the rotation: A was appended already.
    assert appending.append(path, ENTRY, "A") == len(ENTRY)


def test_a_forked_child_waits_for_the_lock_its_parent_holds(tmp_path: Path) -> None:
    path = mailbox.digest_mailbox(tmp_path, "dev.example.org")
    size = appending.append(path, ENTRY, "A")  # this process has the mailbox open now
    # The parent holds the mailbox's lock through the descriptor it keeps open: a child
    # appending through that same descriptor would not wait for it.
    parents = appending._open_mailboxes[path].fd
    fcntl.flock(parents, fcntl.LOCK_EX)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            appending.append(path, ENTRY, "B")
            code = 0
        finally:
            os._exit(code)
    try:
        time.sleep(0.3)
        assert path.stat().st_size == size  # still waiting
    finally:
        fcntl.flock(parents, fcntl.LOCK_UN)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert path.stat().st_size == 2 * size
    # The parent's mailbox is still open and sees what the child added.
    assert appending._open_mailboxes[path].fd == parents
    assert appending.append(path, ENTRY, "B") == 2 * size
