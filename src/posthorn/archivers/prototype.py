"""``prototype``: a local archive, one maildir per list under ``[paths] archive_dir``.

Messages live in ``$archive_dir/prototype/LIST-ID/new/KEY`` where KEY is the
Message-ID-Hash (``HASH-2``, ... for a different message with a colliding Message-ID).
Permalinks are ``[archiver.prototype] base_url``/LIST-ID/KEY, or the ``file://`` URLs of
the files themselves when no base URL is set, so the permalink always names what is stored.
"""

from __future__ import annotations

from email.message import Message
from pathlib import Path

from posthorn.archivers.base import Archiver, hash_of
from posthorn.archivers.store import MaildirStore
from posthorn.interfaces.lists import IMailingList
from posthorn.queues.flatten import message_to_bytes

__all__ = ["PrototypeArchiver"]


class PrototypeArchiver(Archiver):
    def root(self) -> Path:
        return self.site.config.path("archive_dir") / self.name

    def store(self, mlist: IMailingList) -> MaildirStore:
        return MaildirStore(self.root() / mlist.list_id)

    def _prefix(self, mlist: IMailingList) -> str:
        base = self.base_url()
        if base:
            return f"{base}/{mlist.list_id}"
        return f"{(self.root() / mlist.list_id / 'new').as_uri()}"

    def list_url(self, mlist: IMailingList) -> str | None:
        return self._prefix(mlist)

    def permalink(self, mlist: IMailingList, msg: Message) -> str | None:
        hashed = hash_of(msg)
        return f"{self._prefix(mlist)}/{hashed}" if hashed else None

    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        hashed = hash_of(msg)
        if hashed is None:
            raise ValueError("the message has no Message-ID")
        key = self.store(mlist).add(hashed, message_to_bytes(msg))
        return f"{self._prefix(mlist)}/{key}"

    def lookup(self, mlist: IMailingList, url: str) -> bytes | None:
        """The stored message a permalink of this archiver names (what it serves)."""
        prefix = f"{self._prefix(mlist)}/"
        if not url.startswith(prefix):
            return None
        return self.store(mlist).get(url[len(prefix) :])
