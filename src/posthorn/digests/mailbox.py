"""The list's digest mailbox: appended to by to-digest, rotated atomically when sent.

Both sides take an exclusive ``flock`` on the mailbox.  Rotation renames the file
while holding the lock, so a post lands either before the rename (and is in this
digest) or after it; a writer that opened the old file and waited for the lock
finds, once it has the lock, that its file is no longer the mailbox and opens the new
one, so no post is written into a file already rotated.  Rotated files wait in
``digests/LIST-ID.pending/`` named by volume and issue until the digest is queued.

The mailboxes are in ``[paths] data_dir``, for a site on SQLite, which is one host.
A site on PostgreSQL, which may have several, keeps the same posts in its database
(``model.digest_posts``); ``digests.store`` chooses.

A post may reach the mailbox twice: when the pipeline runner is killed after appending
but before finishing its entry, the entry is redone.  Each append names the post by its
Message-ID-Hash, kept in ``LIST-ID.seen`` (the last ``SEEN_KEEP`` posts, across
rotations), and a post already named there is not appended again.  The name is written
after the post, so a crash between the two can repeat a post but never lose one.
Appending is ``digests.appending``, which keeps the files of recent lists open.
"""

from __future__ import annotations

import contextlib
import fcntl
import mailbox
import os
import time
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import IO

from posthorn.digests.appending import READ_SLICE, SEEN_KEEP, append, is_same
from posthorn.interfaces.digests import IssueNumber
from posthorn.queues.files import fsync_dir
from posthorn.queues.flatten import flatten_to
from posthorn.queues.parsing import message_parser

__all__ = [
    "READ_SLICE",
    "SEEN_KEEP",
    "FileDigests",
    "MboxEntry",
    "append",
    "digest_mailbox",
    "discard",
    "pending_dir",
    "read_messages",
    "rotate",
    "size",
]


def digest_mailbox(data_dir: Path, list_id: str) -> Path:
    return data_dir / "digests" / f"{list_id}.mbox"


def pending_dir(data_dir: Path, list_id: str) -> Path:
    return data_dir / "digests" / f"{list_id}.pending"


def _is_current(fd: int, path: Path) -> bool:
    return is_same(os.fstat(fd), path)


@contextlib.contextmanager
def _locked_with_posts(path: Path, flags: int) -> Iterator[int | None]:
    """``path`` opened with ``flags`` and locked while it is still the current mailbox and
    holds posts; None when it is gone, replaced or empty."""
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        yield None
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd if _is_current(fd, path) and os.fstat(fd).st_size else None
    finally:
        os.close(fd)


def rotate(path: Path, target: Callable[[], Path]) -> Path | None:
    """Move a non-empty mailbox to ``target()`` (called only then); None if empty."""
    with _locked_with_posts(path, os.O_RDONLY) as fd:
        if fd is None:
            return None
        os.fsync(fd)
        destination = target()
        destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.rename(path, destination)
        fsync_dir(destination.parent)
        fsync_dir(path.parent)
        return destination


def discard(path: Path, numbered: Callable[[], object]) -> bool:
    """Empty a non-empty mailbox after calling ``numbered()``; False if it was empty.

    For an issue nobody is to receive: the posts are forgotten where they are, with no
    pending file and no fsync.  Should a crash undo the truncation, the posts only wait
    for the next issue, which takes a number of its own.
    """
    with _locked_with_posts(path, os.O_WRONLY) as fd:
        if fd is None:
            return False
        numbered()
        os.ftruncate(fd, 0)
        return True


def size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def read_messages(path: Path) -> list[Message]:
    """The posts in a rotated mailbox, in the order they were accepted."""
    box = mailbox.mbox(path, create=False)
    try:
        return [_parse(box.get_file(key)) for key in box.iterkeys()]
    finally:
        box.close()


def _parse(fp: mailbox._PartialFile) -> Message:
    # Parsed as read, a slice at a time: a large post is not in memory twice.
    parser = message_parser()
    with fp:
        while piece := fp.read(READ_SLICE):
            parser.feed(piece)
    return parser.close()


class MboxEntry:
    """Writes a post to the mailbox as one mbox entry, and keeps how long it was.

    Written straight to the file, never made into bytes: a large post would be in
    memory twice.
    """

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self.size = 0

    def __call__(self, fp: IO[bytes]) -> None:
        start = fp.tell()
        stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
        fp.write(f"From posthorn {stamp}\n".encode())
        flatten_to(fp, self.msg, mangle_from=True)
        fp.write(b"\n\n")
        self.size = fp.tell() - start


class FileDigests:
    """The digest store as mailboxes in ``data_dir/digests`` (``IDigestStore``)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def append(self, list_id: str, msg: Message, key: str = "") -> tuple[int, int]:
        entry = MboxEntry(msg)
        gathered = append(digest_mailbox(self.data_dir, list_id), entry, key=key)
        return gathered, entry.size

    def size(self, list_id: str) -> int:
        return size(digest_mailbox(self.data_dir, list_id))

    def rotate(self, list_id: str, numbered: Callable[[], IssueNumber]) -> bool:
        def target() -> Path:
            return self._issue_path(list_id, numbered())

        return rotate(digest_mailbox(self.data_dir, list_id), target) is not None

    def discard(self, list_id: str, numbered: Callable[[], IssueNumber]) -> bool:
        return discard(digest_mailbox(self.data_dir, list_id), numbered)

    def pending(self, list_id: str) -> list[IssueNumber]:
        paths = pending_dir(self.data_dir, list_id).glob("*.mbox")
        return sorted((int(v), int(n)) for v, n in (p.stem.split("-") for p in paths))

    def read(self, list_id: str, issue: IssueNumber) -> list[Message]:
        return read_messages(self._issue_path(list_id, issue))

    def remove(self, list_id: str, issue: IssueNumber) -> None:
        self._issue_path(list_id, issue).unlink()

    def _issue_path(self, list_id: str, issue: IssueNumber) -> Path:
        volume, number = issue
        return pending_dir(self.data_dir, list_id) / f"{volume:06d}-{number:06d}.mbox"
