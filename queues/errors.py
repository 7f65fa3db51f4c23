"""The exceptions a queue raises, so a runner can tell "skip this one" from a real failure."""

from __future__ import annotations


class QueueError(Exception):
    """Base class for every error the queue library raises on purpose."""


class BadEntry(QueueError):
    """An entry could not be loaded (corrupt, truncated, wrong version, unsafe).

    The entry has already been set aside (moved to ``bad``, or left where it was if
    even that was refused) and the reason logged; the caller only skips it.
    """

    def __init__(self, filebase: str, reason: str) -> None:
        super().__init__(f"{filebase}: {reason}")
        self.filebase = filebase
        self.reason = reason


class QueueUnavailable(QueueError, ConnectionError):
    """Where the entries are kept cannot be reached now (a broker down or refusing):
    nothing was stored or taken by the call that failed; later may work."""


class EntryGone(QueueError):
    """The entry was no longer there to claim: someone else took or removed it."""

    def __init__(self, filebase: str) -> None:
        super().__init__(f"{filebase}: no such entry")
        self.filebase = filebase
