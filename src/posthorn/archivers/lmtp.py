"""``lmtp``: hand each message to an external archive server over LMTP.

The permalink's last part is the RCPT local part: the client offers the
Message-ID-Hash as ``HASH@LIST-ID``; the server answers ``553`` when that permalink is
already taken by another message, and the client offers the next candidate
(``HASH-2``, ``HASH-3``, ... up to ``max_candidates``).  The server's reply to DATA
names the key it stored the message under (``250 2.0.0 stored as KEY``, or
``already archived as KEY`` for bytes it holds already), so offering the same message
again after a timeout stores nothing twice.  ``posthorn archive-server`` is a reference
server (``posthorn.archivers.lmtp_server``).
"""

from __future__ import annotations

import smtplib
from email.message import Message

from posthorn.archivers.base import Archiver, hash_of
from posthorn.archivers.store import candidates
from posthorn.delivery.wire import to_wire
from posthorn.interfaces.lists import IMailingList

__all__ = ["LMTPArchiver", "PermalinksExhausted"]

TAKEN = 553


class PermalinksExhausted(RuntimeError):
    """Every candidate permalink was taken: the server holds too many collisions."""


class LMTPArchiver(Archiver):
    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        hashed = hash_of(msg)
        if hashed is None:
            raise ValueError("the message has no Message-ID")
        limit = self.section.get_int("max_candidates")
        timeout = self.section.get_float("timeout")
        with smtplib.LMTP(
            self.section.get_str("host"), self.section.get_int("port"), timeout=timeout
        ) as lmtp:
            lmtp.ehlo("posthorn")  # LHLO: smtplib.LMTP renames the greeting
            code, reply = lmtp.mail(mlist.bounces_address)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, mlist.bounces_address)
            key = self._offer(lmtp, mlist, hashed, limit)
            code, reply = lmtp.data(to_wire(msg))
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
        # The server names the key it used, which differs from ours if it already held
        # this very message under another candidate.
        stored = reply.decode(errors="replace").split()[-1] if reply else key
        return f"{self.base_url()}/{mlist.list_id}/{stored}"

    def _offer(self, lmtp: smtplib.LMTP, mlist: IMailingList, hashed: str, limit: int) -> str:
        """RCPT the candidates in turn; return the first the server accepts."""
        for key in candidates(hashed, limit):
            code, reply = lmtp.rcpt(f"{key}@{mlist.list_id}")
            if code == 250:
                return key
            if code != TAKEN:
                raise smtplib.SMTPRecipientsRefused({key: (code, reply)})
        raise PermalinksExhausted(f"{limit} permalinks for {hashed} are taken")
