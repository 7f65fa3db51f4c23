"""A message's queue bytes, written once for as long as the message stays the same.

The pipeline puts one post on several queues (``archive`` after cook-headers,
``outgoing`` at the end), and writing a post to bytes is a good part of the cost of
running it.  When no handler between two enqueues changed the message, the second
copy is the first one's bytes.  Whether it changed is read from the message tree
itself, not trusted to the handlers: the header list, the payload (text, or the parts
recursively), preamble, epilogue, policy and default type are all that
``Message.as_bytes`` reads, and headers are (name, value) tuples and payloads strings,
none of which can change in place.  A message holding anything else (a ``Header``
object, which can be appended to, or a payload of bytes) is written afresh each time.

A large post (``LARGE`` bytes or more as received) is not kept as bytes at all: the
queue generates it straight into each file, since its bytes kept between two enqueues
would hold it in memory twice.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.queues.entry import message_bytes

__all__ = ["Flattener", "message_state"]

State = tuple[object, ...]
LARGE = 1024 * 1024


def message_state(msg: Message) -> State | None:
    """What the message's bytes depend on, comparable later; None: not comparable."""
    fields = vars(msg)
    headers = fields.get("_headers")
    if type(headers) is not list:
        return None
    for header in headers:
        if type(header) is not tuple or type(header[1]) is not str:
            return None
    payload = fields.get("_payload")
    contents: object
    if payload is None or type(payload) is str:
        contents = payload
    elif type(payload) is list:
        parts = []
        for part in payload:
            state = message_state(part) if isinstance(part, Message) else None
            if state is None:
                return None
            parts.append(state)
        contents = tuple(parts)
    else:
        return None
    return (
        type(msg),
        tuple(headers),
        contents,
        msg.preamble,
        msg.epilogue,
        msg.policy,
        fields.get("_default_type"),
        fields.get("_charset"),
    )


class Flattener:
    """Remembers the last message written and its bytes (see the module docstring)."""

    def __init__(self) -> None:
        self._last: tuple[Message, State, bytes] | None = None

    def entry_of(self, msg: Message, msgdata: dict[str, Any]) -> bytes | Message:
        """What to enqueue for ``msg``: its bytes (see ``bytes_of``), or a large post itself."""
        size = msgdata.get("original_size")
        if isinstance(size, int) and size >= LARGE:
            self._last = None
            return msg
        return self.bytes_of(msg)

    def bytes_of(self, msg: Message) -> bytes:
        """``message_bytes(msg)``, reused while ``msg`` is unchanged since last time."""
        state = message_state(msg)
        last = self._last
        if state is not None and last is not None and last[0] is msg and last[1] == state:
            return last[2]
        data = message_bytes(msg)
        self._last = (msg, state, data) if state is not None else None
        return data

    def forget(self) -> None:
        """Drop what is remembered (the message in hand is finished)."""
        self._last = None
