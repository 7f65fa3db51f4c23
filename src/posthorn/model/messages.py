"""The default message store: messages by Message-ID-Hash in the message slice.

Messages are kept as bytes in the database rather than as files, so the message slice
can move to a database server shared by several hosts.  The only index is on the
hash: a lookup by Message-ID computes the hash first, which keeps arbitrarily long
Message-IDs out of the index.
"""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy
from email.message import Message
from typing import TYPE_CHECKING, Self

from sqlalchemy import LargeBinary, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.errors import DuplicateMessageError, NoSuchMessageError
from posthorn.interfaces.messages import message_id_hash, strip_message_id
from posthorn.model.base import MessageBase, SessionFactory, UTCDateTime, utc_now
from posthorn.model.held import HeldMixin, as_bytes, the_message_id

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["DatabaseMessageStore", "MessageRow"]


class MessageRow(MessageBase):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(Text)
    message_id_hash: Mapped[str] = mapped_column(String(32), index=True, unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    added_on: Mapped[datetime] = mapped_column(UTCDateTime())


def _parse(row: MessageRow | None) -> Message | None:
    return None if row is None else message_from_bytes(row.raw, policy=policy.default)


class DatabaseMessageStore(HeldMixin):
    """IMessageStore over the message slice (see posthorn.interfaces.messages)."""

    def __init__(self, session: SessionFactory) -> None:
        self._session = session

    @classmethod
    def from_site(cls, site: Site) -> Self:
        return cls(site.databases.session_factory("message"))

    def _row(self, session: Session, hash32: str) -> MessageRow | None:
        return session.scalar(select(MessageRow).where(MessageRow.message_id_hash == hash32))

    def add(self, msg: Message | bytes) -> str:
        raw = as_bytes(msg)
        try:
            return self._add(raw)
        except IntegrityError:
            # Stored by another process between our look-up and our insert: look again.
            return self._add(raw)

    def _add(self, raw: bytes) -> str:
        message_id = the_message_id(raw)
        hash32 = message_id_hash(message_id)
        with self._session() as session:
            existing = self._row(session, hash32)
            if existing is not None:
                # Storing the same message twice (a retry after a crash) is harmless.
                if existing.raw == raw:
                    return hash32
                raise DuplicateMessageError(f"another message is stored as {message_id}")
            row = MessageRow(
                message_id=strip_message_id(message_id),
                message_id_hash=hash32,
                raw=raw,
                added_on=utc_now(),
            )
            session.add(row)
            session.flush()
        return hash32

    def get(self, message_id: str) -> Message | None:
        return self.get_by_hash(message_id_hash(message_id))

    def get_by_hash(self, message_id_hash: str) -> Message | None:
        with self._session() as session:
            return _parse(self._row(session, message_id_hash))

    def delete(self, message_id: str) -> None:
        with self._session() as session:
            row = self._row(session, message_id_hash(message_id))
            if row is None:
                raise NoSuchMessageError(f"no stored message {message_id}")
            session.delete(row)
