"""Delayed entries on the amqp backend: a ladder of fixed delays, without polling.

RabbitMQ expires a message only at the head of its queue, so one queue with a time to
live per message would hold a short delay behind a long one.  Each rung of the ladder
is therefore a queue of its own with one time to live for all its messages (``LADDER``,
in seconds); a message waits on the longest rung not longer than its delay and is then
dead-lettered back to its queue by the broker.  Whatever is left of the delay (``due``
in the header ``DUE_HEADER``) is waited out again on the next rung when it arrives, so
an entry is never handed to a reader more than a second early, in a few hops at most.
"""

from __future__ import annotations

import bisect

__all__ = ["DELAY_HEADER", "DUE_HEADER", "LADDER", "delay_queue_seconds"]

# 1 s up to a day; roughly doubling, with the retry pauses (1, 2, 4 ... 60 min) on it.
LADDER = (1, 2, 4, 8, 15, 30, 60, 120, 240, 480, 900, 1800, 3600, 7200, 14400, 28800, 86400)
# The rung a message is routed to by the delay exchange.
DELAY_HEADER = "x-posthorn-delay"
# When the entry is due, in milliseconds since the epoch (AMQP headers take no floats).
DUE_HEADER = "x-posthorn-due"


def delay_queue_seconds(delay: float) -> int:
    """The rung for ``delay`` seconds: the longest not longer than it, 0 below a second."""
    index = bisect.bisect_right(LADDER, delay)
    return LADDER[index - 1] if index else 0
