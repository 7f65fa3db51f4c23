"""Held messages, as part of the default message store.

Each hold keeps its own copy of the message, not a reference into the store: a message
cross-posted to two lists can be held by both and moderated separately, and two
different messages that share a Message-ID are both kept whole.  Holding the very same
message for the same list again (a redone queue entry) returns the earlier request.
Nothing held is lost until a moderator's decision removes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import Message
from email.parser import BytesHeaderParser
from types import MappingProxyType
from typing import Any, Self

from sqlalchemy import JSON, LargeBinary, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from posthorn.errors import NoSuchMessageError
from posthorn.interfaces.messages import message_id_hash
from posthorn.model.base import MessageBase, SessionFactory, UTCDateTime, page, utc_now

__all__ = ["HeldMessage", "HeldMessageRow", "HeldMixin", "as_bytes", "the_message_id"]


def as_bytes(msg: Message | bytes) -> bytes:
    return msg if isinstance(msg, bytes) else msg.as_bytes()


def the_message_id(raw: bytes) -> str:
    """The one Message-ID of a message; ValueError without exactly one."""
    headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    found = [str(value).strip() for value in headers.get_all("message-id", [])]
    if len(found) != 1 or not found[0]:
        raise ValueError(f"a stored message needs exactly one Message-ID, not {len(found)}")
    return found[0]


def _json_safe(msgdata: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata as JSON stores it; sets and tuples (recipient sets) become lists."""

    def convert(value: Any) -> Any:
        if isinstance(value, (set, frozenset)):
            return sorted(value, key=str)
        if isinstance(value, tuple):
            return list(value)
        raise TypeError(f"{type(value).__name__} is not JSON-safe")

    try:
        return dict(json.loads(json.dumps(dict(msgdata), default=convert)))
    except (TypeError, ValueError) as error:
        raise ValueError(f"message metadata cannot be stored: {error}") from None


class HeldMessageRow(MessageBase):
    __tablename__ = "held_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[str] = mapped_column(String(255), index=True)
    message_id: Mapped[str] = mapped_column(Text)
    message_id_hash: Mapped[str] = mapped_column(String(32), index=True)
    sender: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    msgdata: Mapped[dict[str, Any]] = mapped_column(JSON)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    held_on: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class HeldMessage:
    request_id: int
    list_id: str
    message_id: str
    message_id_hash: str
    sender: str
    subject: str
    reason: str
    held_on: datetime
    msgdata: Mapping[str, Any] = field(hash=False)
    raw: bytes = field(repr=False)

    @property
    def message(self) -> Message:
        return message_from_bytes(self.raw, policy=policy.default)

    @classmethod
    def of(cls, row: HeldMessageRow) -> Self:
        return cls(
            row.id,
            row.list_id,
            row.message_id,
            row.message_id_hash,
            row.sender,
            row.subject,
            row.reason,
            row.held_on,
            MappingProxyType(dict(row.msgdata)),
            row.raw,
        )


class HeldMixin:
    """The held-message half of DatabaseMessageStore (see IMessageStore)."""

    _session: SessionFactory

    def hold(
        self,
        list_id: str,
        msg: Message | bytes,
        reason: str,
        sender: str,
        subject: str,
        msgdata: Mapping[str, Any] | None = None,
    ) -> int:
        raw = as_bytes(msg)
        message_id = the_message_id(raw)
        row = HeldMessageRow(
            list_id=list_id,
            message_id=message_id,
            message_id_hash=message_id_hash(message_id),
            sender=sender,
            subject=subject,
            reason=reason,
            msgdata=_json_safe(msgdata or {}),
            raw=raw,
            held_on=utc_now(),
        )
        with self._session() as session:
            # The incoming runner redoes an entry whose process died before finishing it,
            # so the same hold can arrive twice: the same message for the same list is
            # the earlier request, not a new one.
            earlier = session.execute(
                select(HeldMessageRow.id, HeldMessageRow.raw)
                .where(HeldMessageRow.list_id == list_id)
                .where(HeldMessageRow.message_id_hash == row.message_id_hash)
            )
            for request_id, held_raw in earlier:
                if held_raw == raw:
                    return int(request_id)
            session.add(row)
            session.flush()
            return row.id

    def get_held(self, request_id: int) -> HeldMessage | None:
        with self._session() as session:
            row = session.get(HeldMessageRow, request_id)
            return None if row is None else HeldMessage.of(row)

    def held_for_list(
        self, list_id: str, *, offset: int = 0, limit: int | None = None
    ) -> list[HeldMessage]:
        query = select(HeldMessageRow).where(HeldMessageRow.list_id == list_id)
        query = page(query.order_by(HeldMessageRow.id), offset, limit)
        with self._session() as session:
            return [HeldMessage.of(row) for row in session.scalars(query)]

    def held_count(self, list_id: str) -> int:
        query = select(func.count(HeldMessageRow.id)).where(HeldMessageRow.list_id == list_id)
        with self._session() as session:
            return int(session.scalar(query) or 0)

    def remove_held(self, request_id: int) -> None:
        with self._session() as session:
            result = session.execute(delete(HeldMessageRow).where(HeldMessageRow.id == request_id))
            if getattr(result, "rowcount", 1) != 1:
                raise NoSuchMessageError(f"no held message with request id {request_id}")
