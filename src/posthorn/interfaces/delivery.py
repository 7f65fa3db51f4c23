"""The delivery-record contract: what the outgoing runner asks of the record of a post.

A record names, for one post and one audience, the recipients already served, those
parked on queue ``dead`` and whether the owners were told.  It outlives queue entries,
so a post that reaches the outgoing runner twice (an earlier stage redone, an entry
redelivered to another host) is not sent twice to anyone.  While one entry holds a
post's record open, another entry for the same post waits for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, Self

__all__ = ["IDeliveryRecord", "IDeliveryRecords"]


class IDeliveryRecord(Protocol):
    """One post's record, held open (and locked) until ``close``."""

    done: set[str]
    parked: set[str]
    told: bool

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def record(self, addresses: Iterable[str]) -> None:
        """These recipients are done: no later entry for this post sends to them."""

    def park(self, addresses: Iterable[str]) -> None:
        """These recipients wait on queue ``dead``: only an entry from there sends to them."""

    def mark_told(self) -> None:
        """The owners have heard of the refusal."""

    def sync(self) -> None:
        """Make what was written survive a power cut (before an entry leaves for good)."""

    def close(self) -> None:
        """Let another entry for the same post open the record."""


class IDeliveryRecords(Protocol):
    """Where a site keeps its records."""

    def open(self, list_id: str, audience: str, message_id: str) -> IDeliveryRecord:
        """The record of this post for this audience, waiting while another holds it."""

    def prune(self, age: float) -> int:
        """Remove the records last written more than ``age`` seconds ago; how many."""
