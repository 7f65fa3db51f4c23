"""A stop asked of this process, for the waits inside an entry that could outlast it.

A queue runner's SIGTERM handler only sets a flag, which its loop reads between
entries (``runners/signals.py``), so an entry in hand is finished first.  A wait inside
an entry -- for a site lock another host holds while it delivers the same post
(``site_lock``) -- could last as long as that other host's work, past the master's
``stop_timeout``, and end in SIGKILL.  Such a wait looks at ``requested()`` between
turns and gives up with ``StopRequested``; the runner then leaves the entry claimed,
so the next start queues it again (``runners/base.py``).

One flag per process: the signal it stands for is the process's.
"""

from __future__ import annotations

__all__ = ["StopRequested", "request", "requested", "reset"]

_requested = False


class StopRequested(BaseException):
    """A wait gave up because this process was asked to stop; nothing was done.

    Not an Exception: the handlers on its way (a runner shunting an entry that failed,
    a retry) must not take it for a failure of the entry.
    """


def request() -> None:
    """Ask the waits of this process to give up (called from a signal handler)."""
    global _requested
    _requested = True


def requested() -> bool:
    return _requested


def reset() -> None:
    """Forget a stop asked for before (a runner installing its signal handlers)."""
    global _requested
    _requested = False
