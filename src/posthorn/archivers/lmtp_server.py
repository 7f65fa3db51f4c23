"""A reference archive server for the ``lmtp`` archiver: LMTP in, maildirs out.

Stores like the ``prototype`` archiver: ``ROOT/LIST-ID/new/KEY``, where ``KEY@LIST-ID``
is the recipient.  RCPT of a key already taken is answered ``553`` so the client offers
the next candidate; DATA whose bytes are already stored under a candidate of the same
hash is acknowledged with that key and not stored again.  One recipient per
transaction, so that each DATA has exactly one reply to give.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from posthorn.archivers.store import MaildirStore

__all__ = ["ArchiveHandler", "ArchiveServer"]

# A key is a Message-ID-Hash with an optional -N; a list-id is a dotted name.
_KEY = re.compile(r"[A-Za-z0-9]+(-[0-9]+)?")
_LIST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_CANDIDATES = 1000


class ArchiveHandler:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _store(self, address: str) -> tuple[MaildirStore, str] | None:
        key, _, list_id = address.partition("@")
        if not _KEY.fullmatch(key) or not _LIST_ID.fullmatch(list_id) or ".." in list_id:
            return None
        return MaildirStore(self.root / list_id.lower()), key

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if envelope.rcpt_tos:
            return "452 4.5.3 One recipient per message"
        found = self._store(address)
        if found is None:
            return "550 5.1.1 Not a permalink"
        store, key = found
        if store.taken(key):
            return "553 5.1.0 Permalink already taken"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        found = self._store(envelope.rcpt_tos[0])
        assert found is not None  # checked at RCPT
        store, key = found
        # Stored with LF line ends, as the prototype archiver stores them.
        data = (envelope.original_content or b"").replace(b"\r\n", b"\n")
        existing = store.find(key.split("-")[0], data, MAX_CANDIDATES)
        if existing is not None:
            return f"250 2.0.0 already archived as {existing}"
        if not store.put(key, data):
            return "450 4.2.0 Permalink taken meanwhile; try the next one"
        return f"250 2.0.0 stored as {key}"


class _LMTPController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler)


class ArchiveServer:
    """The server in a thread of its own: ``start()``, ``stop()`` (tests, the CLI)."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 8025) -> None:
        self.root = root
        self.host = host
        self.port = port
        self._controller = _LMTPController(ArchiveHandler(root), hostname=host, port=port)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
