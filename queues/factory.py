"""The one place a queue backend is chosen: ``[queues] backend`` names it.

``open_store`` turns the settings into a store (``FileStore``, or the RabbitMQ one),
and a store makes every queue of the site.  The core reads the settings from its
configuration (``posthorn.queuing``); this module takes them as plain values, so the
queue library still imports nothing of the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from posthorn.queues.errors import QueueError
from posthorn.queues.store import FileStore

__all__ = ["BACKENDS", "BadQueueSetting", "QueueSettings", "open_store"]

BACKENDS = ("files",)


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


def open_store(settings: QueueSettings) -> FileStore:
    """The store of the backend ``settings`` name; BadQueueSetting if there is none."""
    if settings.backend not in BACKENDS:
        raise BadQueueSetting(
            "backend",
            f"unknown queue backend {settings.backend!r}; choose one of {', '.join(BACKENDS)}",
        )
    return FileStore(settings.queue_dir)
