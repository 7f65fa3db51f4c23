"""Queues (Switchboard): never imports the core; two backends behind one factory.

``factory`` picks the backend ``[queues] backend`` names and gives its store, which
makes every queue of a site.  The files backend (standard library only), one module per
idea: ``naming`` (entry names and slices), ``entry`` (the entry format, shared by both
backends), ``files`` (durable, private file operations), ``wakeup`` (inotify),
``errors``, ``listing`` (counts and ages for status), ``quarantine`` (tidying at a
reader's start), ``switchboard``, which puts them together, ``admin`` (single
entries) and ``store``.  The amqp backend (RabbitMQ, through pika): ``amqp_link``
(connections, confirmed publishes), ``delays`` (the delay ladder), ``amqp`` (one
queue) and ``amqp_store``.
"""

from posthorn.queues.errors import (
    BadEntry,
    EntryGone,
    EntryTooBig,
    QueueError,
    QueueUnavailable,
)
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
    "EntryTooBig",
    "QueueEntry",
    "QueueError",
    "QueueUnavailable",
    "Switchboard",
]
