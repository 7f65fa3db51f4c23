"""Send a post's batches over a pool of connections, a bounded number in flight.

The batches come from a generator reading the roster a chunk at a time: at most
``in_flight`` batches (and, for a personalised post, their copies' bytes) exist at
once, however large the list.  Each batch's outcome is recorded, in the calling
thread, as it ends (a kill mid-post re-sends at most those in flight, and what the
record has not yet written), and is folded into a ``Settlement``, which keeps only
what needs more work: recipients to retry, bounces and refused batches.
A post that is one batch goes out from the calling thread, as handing it to the pool
and waiting for it costs more than it overlaps.

Reads nothing but its arguments; writes the delivery record and the settlement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from itertools import chain

from posthorn.delivery.smtp import Transaction
from posthorn.interfaces.delivery import IDeliveryRecord

__all__ = ["Settlement", "fan_out", "finished"]


@dataclass
class Settlement:
    """What a post's delivery left to do, without the recipients that were served."""

    temporary: dict[str, tuple[int, str]] = field(default_factory=dict)
    bounced: dict[str, tuple[int, str]] = field(default_factory=dict)
    refused: list[Transaction] = field(default_factory=list)
    batches: int = 0

    def add(self, result: Transaction) -> None:
        self.batches += 1
        self.temporary.update(result.temporary)
        if result.message_error and result.message_error[0] >= 500:
            self.refused.append(result)
        else:
            self.bounced.update(result.permanent)


def finished(result: Transaction) -> list[str]:
    """The recipients no later entry must send to: accepted, or refused for good at RCPT."""
    if result.message_error:
        return []  # refused with the whole message: parked on dead, not done
    return [*result.accepted, *result.permanent]


def fan_out(
    batches: Iterator[list[str]],
    prepare: Callable[[list[str]], Callable[[], Transaction]],
    pool: Executor,
    in_flight: int,
    record: IDeliveryRecord,
) -> Settlement:
    """Send every batch; ``prepare`` makes, in this thread, the call that sends one (a
    personalised copy is built here, not in the pool's threads)."""
    settlement = Settlement()

    def settle(result: Transaction) -> None:
        record.record(finished(result))
        settlement.add(result)

    first = next(batches, None)
    if first is None:
        return settlement
    second = next(batches, None)
    if second is None:
        settle(prepare(first)())
        return settlement
    pending: set[Future[Transaction]] = set()
    try:
        for batch in chain((first, second), batches):
            if len(pending) >= in_flight:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    settle(future.result())
            pending.add(pool.submit(prepare(batch)))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                settle(future.result())
    finally:
        # An error in one batch: those not begun are not sent; those sending finish,
        # and are recorded, before the error goes on.
        for future in pending:
            if not future.cancel() and future.exception() is None:
                settle(future.result())
    return settlement
