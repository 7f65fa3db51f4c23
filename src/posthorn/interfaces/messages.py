"""The message slice: stored messages by Message-ID, and messages held for moderation.

``message_id_hash`` lives here because it is part of the contract, not of one store:
the pipeline stamps it on messages (``Message-ID-Hash``), archivers build permalinks
from it, and any store must find messages by it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import Message
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

__all__ = ["IHeldMessage", "IMessageStore", "message_id_hash", "strip_message_id"]


def strip_message_id(message_id: str) -> str:
    """The Message-ID without surrounding whitespace and angle brackets."""
    text = message_id.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    return text


@lru_cache(maxsize=256)
def message_id_hash(message_id: str) -> str:
    """Base32 of the SHA-1 of the bare Message-ID, as GNU Mailman and HyperKitty compute it.

    It is the permalink key: anyone holding the message can compute it without asking
    the archive, which is why it must never change.  A post's is asked for by several
    handlers in turn (and base32 is written in Python), so the latest are remembered.
    """
    digest = hashlib.sha1(strip_message_id(message_id).encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii")


@runtime_checkable
class IHeldMessage(Protocol):
    """A message waiting for a moderator, with why it was held."""

    @property
    def request_id(self) -> int:
        """The moderator's handle for this request; unique in the store."""

    @property
    def list_id(self) -> str: ...

    @property
    def message_id(self) -> str: ...

    @property
    def message_id_hash(self) -> str: ...

    @property
    def sender(self) -> str: ...

    @property
    def subject(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def held_on(self) -> datetime: ...

    @property
    def msgdata(self) -> Mapping[str, Any]:
        """The pipeline metadata at the time of holding (JSON-safe values)."""

    @property
    def message(self) -> Message:
        """The held message itself, parsed (email.policy.default)."""

    @property
    def raw(self) -> bytes:
        """The held message exactly as it was held."""


class IMessageStore(Protocol):
    """Messages by Message-ID and by Message-ID-Hash, and held messages by request id.

    Stored messages come back parsed with ``email.policy.default``.  Errors:
    DuplicateMessageError, NoSuchMessageError, ValueError for a message without exactly
    one Message-ID header.
    """

    def add(self, msg: Message | bytes) -> str:
        """Store a message; returns its Message-ID-Hash.

        Adding the same bytes again returns the same hash; different bytes under a
        Message-ID that is already stored raise DuplicateMessageError.
        """

    def get(self, message_id: str) -> Message | None:
        """By Message-ID, with or without angle brackets."""

    def get_by_hash(self, message_id_hash: str) -> Message | None: ...

    def delete(self, message_id: str) -> None:
        """Remove a stored message; NoSuchMessageError if it is not there."""

    def hold(
        self,
        list_id: str,
        msg: Message | bytes,
        reason: str,
        sender: str,
        subject: str,
        msgdata: Mapping[str, Any] | None = None,
    ) -> int:
        """Keep a message for moderation; returns the request id.

        The held copy is kept with the request, so a cross-posted message held for two
        lists, or two messages sharing a Message-ID, are each kept whole.
        """

    def get_held(self, request_id: int) -> IHeldMessage | None: ...

    def held_for_list(
        self, list_id: str, *, offset: int = 0, limit: int | None = None
    ) -> Sequence[IHeldMessage]:
        """A list's held messages, oldest first."""

    def held_count(self, list_id: str) -> int: ...

    def remove_held(self, request_id: int) -> None:
        """Forget a held message (after a moderator's decision); NoSuchMessageError if gone."""
