"""An entry that cannot be handled now: ``RetryLater`` and the retry queue's metadata.

A runner's ``process`` raises ``RetryLater``; the base (``posthorn.runners.base``)
sends the entry to the ``retry`` queue with the metadata made here, and the retry
runner returns it to its queue when due.  A database that cannot be reached is the
same case: the entry itself is fine.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

__all__ = [
    "DATABASE_UNAVAILABLE",
    "RETRY_AFTER",
    "RETRY_QUEUE",
    "RetryLater",
    "database_retry",
    "retry_metadata",
]

# The queue RetryLater sends entries to; the retry runner returns them when due.
RETRY_QUEUE = "retry"
# The metadata key naming when an entry on the retry queue is due (epoch seconds).
RETRY_AFTER = "retry_after"
# Without an explicit delay, the n-th retry of an entry waits RETRY_PAUSE * 2**(n-1),
# at most RETRY_PAUSE_MAX: an entry that keeps failing must not cycle at full speed.
RETRY_PAUSE = 60.0
RETRY_PAUSE_MAX = 3600.0
# Errors that say the database cannot be reached now, not that the entry is bad; the
# first retry comes soon, since such outages are usually short.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
DATABASE_RETRY_PAUSE = 2.0


class RetryLater(Exception):
    """Raised by ``process``: the entry cannot be handled now but may be later.

    The entry moves to the ``retry`` queue, due back after ``delay`` seconds, or, if
    none is given, after a pause that doubles with each retry of the same entry (one
    minute, two, four, ... at most an hour).
    """

    def __init__(self, reason: str = "", *, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


def database_retry(msgdata: dict[str, Any], error: Exception) -> RetryLater:
    """The retry for an entry whose database call failed: soon, then doubling.

    The database is down or unreachable for now (a restart, a failover, a lock held
    too long): the entry waits in retry rather than in shunt, where it would need a
    person to bring it back.
    """
    retries = int(msgdata.get("retries", 0))
    delay = min(DATABASE_RETRY_PAUSE * 2**retries, RETRY_PAUSE_MAX)
    return RetryLater(f"database unavailable: {type(error).__name__}", delay=delay)


def retry_metadata(msgdata: dict[str, Any], queue: str, retry: RetryLater) -> dict[str, Any]:
    """The metadata of the entry's copy on the retry queue: where back to, and when."""
    data = dict(msgdata)
    data["retry_queue"] = queue
    data["retries"] = int(data.get("retries", 0)) + 1
    data["retry_reason"] = retry.reason
    delay = retry.delay
    if delay is None:
        delay = min(RETRY_PAUSE * 2 ** (data["retries"] - 1), RETRY_PAUSE_MAX)
    data[RETRY_AFTER] = time.time() + delay
    return data
