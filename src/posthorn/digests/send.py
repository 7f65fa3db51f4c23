"""Sending a list's digest: rotate the mailbox, number the issue, queue one copy each.

The steps, all under a per-list site lock (``digest.LIST-ID``, ``posthorn.site_lock``)
so that the digest runners of every host and ``posthorn digests --send`` never send
the same file twice:

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
import logging
from collections.abc import Callable
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
from posthorn.site_lock import SiteLocks

__all__ = ["DigestSender", "Send", "periodic_lock"]

Send = Callable[[Message, dict[str, Any]], None]
PLAIN_MODES = ("plaintext_digests", "summary_digests")


def periodic_lock(site: Site) -> contextlib.AbstractContextManager[bool]:
    """Held, site-wide, while digests are sent for every list (cron or a task runner)."""
    return SiteLocks.from_site(site).hold("digests", wait=True)


class DigestSender:
    def __init__(self, site: Site, send: Send, *, log: logging.Logger | None = None) -> None:
        self.site = site
        self.shared_dir = site.config.path("shared_dir")
        self.locks = SiteLocks.from_site(site)
        self._send = send
        self._log = log or logging.getLogger("posthorn.digest")

    def due(self, mlist: IMailingList) -> bool:
        """Whether the mailbox has reached the list's size threshold (0: never by size)."""
        threshold = mlist.digest_size_threshold * 1024
        path = mailbox.digest_mailbox(self.shared_dir, mlist.list_id)
        return threshold > 0 and mailbox.size(path) >= threshold

    def run(self, mlist: IMailingList, *, force: bool = False) -> int:
        """Rotate if forced or due, then send every pending issue; how many were sent."""
        with self.locks.hold(f"digest.{mlist.list_id}", wait=True):
            if force or self.due(mlist):
                self._rotate(mlist)
            pending = sorted(mailbox.pending_dir(self.shared_dir, mlist.list_id).glob("*.mbox"))
            for path in pending:
                self._send_issue(mlist, path)
            return len(pending)

    def _rotate(self, mlist: IMailingList) -> Path | None:
        def numbered() -> Path:
            sessions = self.site.databases.session_factory("list")
            volume, issue = next_issue(
                sessions, mlist.list_id, mlist.digest_volume_frequency, utc_now()
            )
            pending = mailbox.pending_dir(self.shared_dir, mlist.list_id)
            return pending / f"{volume:06d}-{issue:06d}.mbox"

        path = mailbox.digest_mailbox(self.shared_dir, mlist.list_id)
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
