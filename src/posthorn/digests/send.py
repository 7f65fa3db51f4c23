"""Sending a list's digest: rotate what has gathered, number the issue, queue one copy each.

The posts wait in the site's digest store (``digests.store``: mailbox files on SQLite,
rows of the database on PostgreSQL).  The steps, all under a per-list site lock
(``digest.LIST-ID``, ``posthorn.site_lock``) so that the digest runners of every host
and ``posthorn digests --send`` never send the same issue twice:

1. if asked to (``force``) or what has gathered reaches ``digest_size_threshold``
   KiB, the next volume and issue are taken and the gathered posts become that issue
   (a mailbox is renamed to ``LIST-ID.pending/VVVVVV-IIIIII.mbox``, see
   ``mailbox.py``; rows get the issue's number);
2. every pending issue, oldest first, is built in both formats and queued on
   ``virgin`` naming its audience by ``delivery_modes`` (the outgoing runner reads
   those members a chunk at a time): the MIME digest to ``mime_digests`` members, the
   RFC 1153 digest to ``plaintext_digests`` and ``summary_digests`` members (a summary
   format of its own is not built), each only to members whose delivery is enabled;
3. the pending issue is removed.

A crash before step 3 leaves the issue pending with its numbers, and the next run
sends it; a crash between queueing and removing would send that issue twice, a
window of one unlink or one UPDATE.

A list with no digest members (delivery enabled) still numbers each issue as it fills,
as GNU Mailman does, but its posts are forgotten where they wait (``discard``: no
pending file, no fsync, no parse), and until then they wait as on any list, so a member
who switches to digests receives what has gathered since the last issue, as on GNU
Mailman, not every post since digests were enabled, nor only posts after the switch.
Whether anyone gets each format is kept until the site's data changes (``site.cache``),
so a list without digest members costs each issue one numbering and no roster query;
the to-digest handler does that itself (``drop_unread``), without waking this runner.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from email.message import Message
from typing import Any

from posthorn.digests.build import Issue, build_mime, build_plain
from posthorn.digests.numbering import next_issue
from posthorn.digests.store import digest_stores
from posthorn.i18n import list_translator
from posthorn.interfaces.digests import IDigestStore, IssueNumber
from posthorn.interfaces.lists import IMailingList
from posthorn.model.base import utc_now
from posthorn.site import Site
from posthorn.site_lock import SiteLocks

__all__ = ["DigestSender", "Send", "periodic_lock"]

Send = Callable[[Message, dict[str, Any]], None]
MIME_MODES = ("mime_digests",)
PLAIN_MODES = ("plaintext_digests", "summary_digests")
# Each format: the delivery modes that receive it, how it is built, its name.
Audience = tuple[tuple[str, ...], Callable[[Issue], Message], str]
AUDIENCES: tuple[Audience, ...] = (
    (MIME_MODES, build_mime, "mime"),
    (PLAIN_MODES, build_plain, "plain"),
)


def periodic_lock(site: Site) -> contextlib.AbstractContextManager[bool]:
    """Held, site-wide, while digests are sent for every list (cron or a task runner)."""
    return SiteLocks.from_site(site).hold("digests", wait=True)


class DigestSender:
    def __init__(self, site: Site, send: Send, *, log: logging.Logger | None = None) -> None:
        self.site = site
        self.stores = digest_stores(site)
        self.locks = SiteLocks.from_site(site)
        self._send = send
        self._log = log or logging.getLogger("posthorn.digest")

    def due(self, mlist: IMailingList) -> bool:
        """Whether the posts gathered reach the list's size threshold (0: never by size)."""
        threshold = mlist.digest_size_threshold * 1024
        gathered = sum(store.size(mlist.list_id) for store in self.stores)
        return threshold > 0 and gathered >= threshold

    def run(self, mlist: IMailingList, *, force: bool = False) -> int:
        """Rotate if forced or due, then send every pending issue; how many were sent.

        An issue nobody is to receive is numbered and dropped, and counts as sent.
        """
        sent = 0
        with self.locks.hold(f"digest.{mlist.list_id}", wait=True):
            rotating = force or self.due(mlist)
            audiences = self._audiences(mlist)
            for store in self.stores:
                if rotating and not audiences and self._discard(store, mlist):
                    sent += 1
                elif rotating:
                    self._rotate(store, mlist)
                pending = store.pending(mlist.list_id)
                for issue in pending:
                    self._send_issue(store, mlist, issue, audiences)
                sent += len(pending)
        return sent

    def drop_unread(self, mlist: IMailingList) -> bool:
        """Number and drop what has gathered, if due, when nobody is to receive it.

        For the to-digest handler: True when that is done (or nothing was due); False
        when there are digest members, issues wait to be sent, or another process
        holds the list's lock, all of which are the digest runner's.
        """
        if self._audiences(mlist):
            return False
        with self.locks.hold(f"digest.{mlist.list_id}") as held:
            if not held:
                return False
            if self.due(mlist):
                for store in self.stores:
                    self._discard(store, mlist)
            return not any(store.pending(mlist.list_id) for store in self.stores)

    def _numbered(self, mlist: IMailingList) -> Callable[[], IssueNumber]:
        def numbered() -> IssueNumber:
            engine = self.site.databases.engine("list")
            return next_issue(engine, mlist.list_id, mlist.digest_volume_frequency, utc_now())

        return numbered

    def _rotate(self, store: IDigestStore, mlist: IMailingList) -> bool:
        return store.rotate(mlist.list_id, self._numbered(mlist))

    def _discard(self, store: IDigestStore, mlist: IMailingList) -> bool:
        taken: list[IssueNumber] = []
        numbered = self._numbered(mlist)

        def number() -> IssueNumber:
            taken.append(numbered())
            return taken[-1]

        if not store.discard(mlist.list_id, number):
            return False
        subject = Issue(mlist, *taken[-1], [], list_translator(self.site.config, mlist)).subject
        self._log.info("%s: %s dropped: no digest members", mlist.list_id, subject)
        return True

    def _audiences(self, mlist: IMailingList) -> tuple[Audience, ...]:
        """The formats someone receives: kept until the site's data changes."""

        def compute() -> tuple[Audience, ...]:
            # Who gets each format is read by the outgoing runner, a chunk of the roster
            # at a time; here only whether anyone does.
            roster = self.site.lists.roster(mlist)
            return tuple(
                audience for audience in AUDIENCES
                if next(roster.addresses(audience[0], 1), None)
            )  # fmt: skip

        return self.site.cache.get(("digest-audiences", mlist.list_id), compute)

    def _send_issue(
        self,
        store: IDigestStore,
        mlist: IMailingList,
        number: IssueNumber,
        audiences: tuple[Audience, ...],
    ) -> None:
        # Nobody to send it to: the issue is dropped unread (parsing every post of it
        # was most of what a digest cost a list without digest members).
        posts = store.read(mlist.list_id, number) if audiences else []
        issue = Issue(mlist, *number, posts, list_translator(self.site.config, mlist))
        for modes, build, kind in audiences:
            if issue.posts:
                data = {"list_id": mlist.list_id, "delivery_modes": list(modes),
                        "audience": f"digest-{kind}", "digest": kind,
                        "no_archive": True}  # fmt: skip
                self._send(build(issue), data)
        store.remove(mlist.list_id, number)
        if not audiences:
            self._log.info("%s: %s dropped: no digest members", mlist.list_id, issue.subject)
            return
        self._log.info(
            "%s: %s (%d posts) to the %s digest members",
            *(mlist.list_id, issue.subject, len(issue.posts)),
            " and ".join(kind for _, _, kind in audiences),
        )
