"""The amqp backend's view of a whole site's queues (``IQueueStore``), on RabbitMQ.

The broker answers how many messages wait in a queue, but it has no listing of a
queue's messages and no way to act on one in the middle.  So counts come from a passive
declaration (messages ready, not those a reader holds), and listings and the
single-entry actions (``posthorn queue``, ``where``, ``qfile``, REST's file list) reach
only the queues no runner reads -- ``shunt``, ``bad``, ``hold``, ``dead`` -- whose
messages are taken off and returned (``amqp_link.browse``).  An entry waiting for a
runner is counted but not listed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from email.policy import Policy, compat32
from typing import Any, TypeVar

from posthorn.queues.admin import HOLD, PARKED, EntryInfo, StoredEntry, describe
from posthorn.queues.amqp import BROWSABLE, REASON_HEADER, AmqpQueue
from posthorn.queues.amqp_link import Browsed, browse, shared_link
from posthorn.queues.entry import FormatError, decode, encode
from posthorn.queues.errors import QueueError
from posthorn.queues.naming import arrival_ns, is_queue_name

__all__ = ["AmqpStore"]

T = TypeVar("T")
_STAY_KEYS = ("queue_attempts", "shunt_reason")


class AmqpStore:
    """Posthorn's queues as quorum queues ``PREFIX.NAME`` on one RabbitMQ broker."""

    backend = "amqp"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "posthorn",
        known: Iterable[str] = (),
        delayed: Iterable[str] = ("retry",),
        due_key: str = "retry_after",
        max_message_size: int = 0,
    ) -> None:
        self.link = shared_link(url, prefix, max_message_size)
        self.known = sorted({*known, *BROWSABLE})
        self.delayed = frozenset(delayed)
        self.due_key = due_key

    def __repr__(self) -> str:
        return f"<AmqpStore {self.link!r}>"

    def open(
        self,
        name: str,
        *,
        slice: int = 0,
        count: int = 1,
        max_attempts: int = 3,
        prefetch: int = 0,
        logger: logging.Logger | None = None,
        policy: Policy[Any] = compat32,
    ) -> AmqpQueue:
        return AmqpQueue(
            self.link,
            name,
            slice=slice,
            count=count,
            max_attempts=max_attempts,
            prefetch=prefetch or 1,
            delayed=name in self.delayed,
            due_key=self.due_key,
            logger=logger,
            policy=policy,
        )

    def exists(self, name: str) -> bool:
        return self.link.size(name) is not None

    def names(self) -> list[str]:
        """The known queues (the runners' and the parked ones) that the broker has."""
        return [name for name in self.known if self.exists(name)]

    def location(self, name: str) -> str:
        parameters = self.link.parameters
        return f"amqp://{parameters.host}:{parameters.port}/ queue {self.link.queue_name(name)}"

    def waiting(self, name: str) -> list[str]:
        if name not in BROWSABLE:
            return []
        with browse(self.link, name) as messages:
            return [message.message_id for message in messages]

    def depth(self, name: str, *, slice: int = 0, count: int = 1) -> int:
        """Entries ready in ``name``: its readers share them all, slices are not kept."""
        return self.link.size(name) or 0

    def remove(self, name: str, entry_id: str) -> bool:
        if name not in BROWSABLE:
            return False
        with browse(self.link, name) as messages:
            for message in messages:
                if message.message_id == entry_id:
                    message.take()
                    return True
        return False

    # -- the administrator's view -----------------------------------------------------------

    def list_entries(self, names: list[str]) -> list[EntryInfo]:
        found: list[EntryInfo] = []
        now = time.time()
        for name in names:
            if name not in BROWSABLE:
                continue
            with browse(self.link, name) as messages:
                for message in messages:
                    arrived = arrival_ns(message.message_id)
                    age = now - arrived / 1e9 if arrived is not None else 0.0
                    list_id, message_id = _describe(message)
                    found.append(EntryInfo(message.message_id, name, "queued", max(age, 0.0),
                                           len(message.body), list_id, message_id))  # fmt: skip
        return sorted(found, key=lambda entry: -entry.age)

    def scan(self) -> Iterator[StoredEntry]:
        for name in sorted(BROWSABLE):
            with browse(self.link, name) as messages:
                loaded = []
                for message in messages:
                    try:
                        data, msgdata = decode(message.body)
                    except FormatError:
                        continue
                    reason = message.headers.get(REASON_HEADER)
                    if name == "bad" and reason:
                        msgdata.setdefault("bad_reason", str(reason))
                    loaded.append(StoredEntry(message.message_id, name, "queued", data, msgdata))
            yield from loaded

    def peek(self, entry_id: str) -> tuple[bytes, dict[str, Any]]:
        for name in sorted(BROWSABLE):
            with browse(self.link, name) as messages:
                for message in messages:
                    if message.message_id == entry_id:
                        try:
                            return decode(message.body)
                        except FormatError as error:
                            raise QueueError(f"cannot read: {error}") from None
        raise QueueError(_not_found(entry_id))

    def delete(self, entry_id: str) -> str:
        def act(name: str, message: Browsed) -> str:
            message.take()
            return name

        return self._act(entry_id, act)

    def hold(self, entry_id: str) -> str:
        def act(name: str, message: Browsed) -> str:
            if name == HOLD:
                raise QueueError(f"{entry_id} is already held")
            self.link.publish(HOLD, message.body, message_id=entry_id)
            message.take()
            return name

        return self._act(entry_id, act)

    def release(self, entry_id: str) -> str:
        def act(name: str, message: Browsed) -> str:
            if name != HOLD:
                raise QueueError(f"{entry_id} is not held (it waits in {name})")
            target = _origin(entry_id, message.body)
            self.link.publish(target, message.body, message_id=entry_id)
            message.take()
            return target

        return self._act(entry_id, act)

    def requeue(self, entry_id: str, to: str | None = None) -> tuple[str, str]:
        def act(name: str, message: Browsed) -> tuple[str, str]:
            target = to or _origin(entry_id, message.body)
            if not is_queue_name(target) or target == HOLD:
                raise QueueError(f"{target!r} is not a queue an entry can be sent to")
            try:
                data, msgdata = decode(message.body)
            except FormatError as error:
                raise QueueError(f"{entry_id} cannot be read ({error}); delete it") from None
            for key in _STAY_KEYS:
                msgdata.pop(key, None)
            if target not in PARKED:
                msgdata["whichq"] = target
            self.link.publish(target, encode(data, msgdata), message_id=entry_id)
            message.take()
            return name, target

        return self._act(entry_id, act)

    def _act(self, entry_id: str, act: Callable[[str, Browsed], T]) -> T:
        for name in sorted(BROWSABLE):
            with browse(self.link, name) as messages:
                for message in messages:
                    if message.message_id == entry_id:
                        return act(name, message)
        raise QueueError(_not_found(entry_id))

    def close(self) -> None:
        self.link.close()


def _not_found(entry_id: str) -> str:
    parked = ", ".join(sorted(BROWSABLE))
    return (
        f"no entry {entry_id} in {parked}; on the amqp backend entries waiting for a "
        "runner cannot be named one by one"
    )


def _origin(entry_id: str, body: bytes) -> str:
    try:
        _, msgdata = decode(body)
    except FormatError as error:
        raise QueueError(f"{entry_id} cannot be read ({error})") from None
    whichq = msgdata.get("whichq")
    if not is_queue_name(whichq) or whichq == HOLD:
        raise QueueError(f"{entry_id} does not say which queue it came from; use --to")
    return whichq


def _describe(message: Browsed) -> tuple[str, str]:
    try:
        data, msgdata = decode(message.body)
    except FormatError:
        return "-", "-"
    return describe(msgdata, data)
