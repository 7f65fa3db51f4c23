"""The one place a queue backend is chosen: ``[queues] backend`` names it.

``open_store`` turns the settings into a store (``FileStore``, or the RabbitMQ one),
and a store makes every queue of the site.  The core reads the settings from its
configuration (``posthorn.queuing``); this module takes them as plain values, so the
queue library still imports nothing of the core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from posthorn.queues.errors import QueueError
from posthorn.queues.store import FileStore

if TYPE_CHECKING:
    from posthorn.queues.amqp_store import AmqpStore

__all__ = ["BACKENDS", "BadQueueSetting", "QueueSettings", "open_store"]

BACKENDS = ("files", "amqp")
_PREFIX = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


class BadQueueSetting(QueueError):
    """A queue setting that no backend can work with; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class QueueSettings:
    """What choosing and reaching a backend takes (``[queues]`` and ``queue_dir``)."""

    queue_dir: Path
    backend: str = "files"
    amqp_url: str = ""
    amqp_prefix: str = "posthorn"
    # The broker's max_message_size (bytes; 0: not known): a bigger entry is refused
    # (EntryTooBig) before it is sent.
    amqp_max_message_size: int = 0
    # Queue names a store cannot discover by itself (a broker has no listing).
    known: tuple[str, ...] = ()
    # Queues whose entries wait until the time in their metadata key ``due_key``.
    delayed: tuple[str, ...] = field(default=("retry",))
    due_key: str = "retry_after"


def open_store(settings: QueueSettings) -> FileStore | AmqpStore:
    """The store of the backend ``settings`` name; BadQueueSetting if there is none.

    Nothing is connected to yet: a broker is reached when a queue is first used.
    """
    if settings.backend not in BACKENDS:
        raise BadQueueSetting(
            "backend",
            f"unknown queue backend {settings.backend!r}; choose one of {', '.join(BACKENDS)}",
        )
    if settings.backend == "files":
        return FileStore(settings.queue_dir)
    if not settings.amqp_url.startswith(("amqp://", "amqps://")):
        raise BadQueueSetting(
            "amqp_url", f"expected an amqp:// or amqps:// URL, got {settings.amqp_url!r}"
        )
    if not _PREFIX.match(settings.amqp_prefix):
        raise BadQueueSetting(
            "amqp_prefix",
            f"expected letters, digits, '.', '_' or '-', got {settings.amqp_prefix!r}",
        )
    # Imported here: the files backend needs no AMQP client installed.
    from posthorn.queues.amqp_store import AmqpStore

    return AmqpStore(
        settings.amqp_url,
        prefix=settings.amqp_prefix,
        known=settings.known,
        delayed=settings.delayed,
        due_key=settings.due_key,
        max_message_size=settings.amqp_max_message_size,
    )
