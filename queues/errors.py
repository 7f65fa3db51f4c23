"""The exceptions a queue raises, so a runner can tell "skip this one" from a real failure."""

from __future__ import annotations

import errno


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


class EntryTooBig(QueueError, OSError):
    """The entry is bigger than the backend can store (a broker's message size limit):
    nothing was stored, and trying again cannot help.

    Its errno is EFBIG, as for a file past the file system's size limit: whoever tells
    a sender "too big" (LMTP's 552) knows it by that, whichever backend said it.
    """

    def __init__(self, size: int, limit: int, detail: str = "") -> None:
        text = f"an entry of {size} bytes is over the {limit} bytes the queue takes{detail}"
        super().__init__(errno.EFBIG, text)
        self.size = size
        self.limit = limit

    def __str__(self) -> str:
        return str(self.strerror)


class EntryGone(QueueError):
    """The entry was no longer there to claim: someone else took or removed it."""

    def __init__(self, filebase: str) -> None:
        super().__init__(f"{filebase}: no such entry")
        self.filebase = filebase
