"""Sending a list's digest: rotate the mailbox, number the issue, queue one copy each.

The steps, all under a per-list lock (``digests/LIST-ID.lock``) so that the digest
runner and ``posthorn digests --send`` never send the same file twice:

1. if asked to (``force``) or the mailbox has reached ``digest_size_threshold``
   KiB, the next volume and issue are taken and the mailbox is renamed to
   ``LIST-ID.pending/VVVVVV-IIIIII.mbox`` (see ``mailbox.py``);
2. every pending file, oldest issue first, is built in both formats and queued on
   ``virgin`` with explicit ``recipients``: the MIME digest to ``mime_digests``
   members, the RFC 1153 digest to ``plaintext_digests`` and ``summary_digests``
   members (a summary format of its own is not built), each only if delivery is
   enabled;
3. the pending file is removed.

A crash before step 3 leaves the file pending with its numbers, and the next run
sends it; a crash between queueing and removing would send that issue twice, a
window of one unlink.  A digest with no digest members is numbered and dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import Any

from posthorn.digests import mailbox
from posthorn.digests.build import Issue, build_mime, build_plain
from posthorn.digests.numbering import next_issue
from posthorn.i18n import list_translator
from posthorn.interfaces.lists import IMailingList
from posthorn.model.base import utc_now
from posthorn.site import Site

__all__ = ["DigestSender", "Send", "periodic_lock"]

Send = Callable[[Message, dict[str, Any]], None]
PLAIN_MODES = ("plaintext_digests", "summary_digests")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def periodic_lock(data_dir: Path) -> contextlib.AbstractContextManager[None]:
    """Held while digests are sent for every list at once (cron or the task runner)."""
    return _locked(data_dir / "digests" / "periodic.lock")


class DigestSender:
    def __init__(self, site: Site, send: Send, *, log: logging.Logger | None = None) -> None:
        self.site = site
        self.data_dir = site.config.path("data_dir")
        self._send = send
        self._log = log or logging.getLogger("posthorn.digest")

    def due(self, mlist: IMailingList) -> bool:
        """Whether the mailbox has reached the list's size threshold (0: never by size)."""
        threshold = mlist.digest_size_threshold * 1024
        path = mailbox.digest_mailbox(self.data_dir, mlist.list_id)
        return threshold > 0 and mailbox.size(path) >= threshold

    def run(self, mlist: IMailingList, *, force: bool = False) -> int:
        """Rotate if forced or due, then send every pending issue; how many were sent."""
        lock = self.data_dir / "digests" / f"{mlist.list_id}.lock"
        with _locked(lock):
            if force or self.due(mlist):
                self._rotate(mlist)
            pending = sorted(mailbox.pending_dir(self.data_dir, mlist.list_id).glob("*.mbox"))
            for path in pending:
                self._send_issue(mlist, path)
            return len(pending)

    def _rotate(self, mlist: IMailingList) -> Path | None:
        def numbered() -> Path:
            sessions = self.site.databases.session_factory("list")
            volume, issue = next_issue(
                sessions, mlist.list_id, mlist.digest_volume_frequency, utc_now()
            )
            return (
                mailbox.pending_dir(self.data_dir, mlist.list_id) / f"{volume:06d}-{issue:06d}.mbox"
            )

        path = mailbox.digest_mailbox(self.data_dir, mlist.list_id)
        return mailbox.rotate(path, numbered)

    def _send_issue(self, mlist: IMailingList, path: Path) -> None:
        volume, number = (int(part) for part in path.stem.split("-"))
        translate = list_translator(self.site.config, mlist)
        issue = Issue(mlist, volume, number, mailbox.read_messages(path), translate)
        members = [
            m
            for m in self.site.lists.roster(mlist).digest_members
            if m.delivery_status == "enabled"
        ]
        mime = [m.email for m in members if m.delivery_mode == "mime_digests"]
        plain = [m.email for m in members if m.delivery_mode in PLAIN_MODES]
        for recipients, build, kind in ((mime, build_mime, "mime"), (plain, build_plain, "plain")):
            if recipients and issue.posts:
                data = {"list_id": mlist.list_id, "recipients": recipients,
                        "digest": kind, "no_archive": True}  # fmt: skip
                self._send(build(issue), data)
        path.unlink()
        self._log.info(
            "%s: %s (%d posts) to %d MIME and %d plain members",
            *(mlist.list_id, issue.subject, len(issue.posts), len(mime), len(plain)),
        )
