"""Filesystem queues (Switchboard): standard library only, never imports the core.

One module per idea: ``naming`` (entry names and slices), ``entry`` (the file format),
``files`` (durable, private file operations), ``wakeup`` (inotify), ``errors``,
``listing`` (counts and ages for status), ``quarantine`` (tidying at a reader's start),
and ``switchboard``, which puts them together.
"""

from posthorn.queues.errors import BadEntry, EntryGone, QueueError
from posthorn.queues.listing import QueueEntry
from posthorn.queues.switchboard import (
    ATTEMPTS_KEY,
    REASON_KEY,
    RECEIVED_KEY,
    VERSION_KEY,
    WHICHQ_KEY,
    Switchboard,
)

__all__ = [
    "ATTEMPTS_KEY",
    "REASON_KEY",
    "RECEIVED_KEY",
    "VERSION_KEY",
    "WHICHQ_KEY",
    "BadEntry",
    "EntryGone",
    "QueueEntry",
    "QueueError",
    "Switchboard",
]
