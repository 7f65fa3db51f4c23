"""LMTP connection slots under pressure: who yields a slot when a new client needs one.

A fixed connection cap keeps a flood of clients from exhausting the runner, but on its
own it lets idle or slow clients lock out the MTA's real deliveries: a newcomer over the
cap would be answered 421 until one of them timed out (``idle_timeout``, 5 minutes by
default).  As in Postfix's stress-adaptive behaviour, a full cap changes the rules:

- a newcomer is served at once if some session is idle between commands: the session
  idle longest is told 421 and closed, preferring one between transactions (a session
  that has given MAIL FROM loses a transaction the MTA simply retries); a session in
  DATA, or one whose command is being handled, is never evicted;
- while the cap is full, idle sessions wait at most ``pressure_idle_timeout`` for their
  next command instead of ``idle_timeout``; a session already sending its DATA keeps the
  normal timeout, so a large message on a slow link is never cut short by pressure.

Only when every slot holds a session at work is a newcomer refused with 421.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

__all__ = ["Occupant", "Slots"]


class Occupant(Protocol):
    """A session as the slots see it."""

    @property
    def idle_since(self) -> float | None:
        """Monotonic time the session started waiting for a command; None while at work."""

    @property
    def in_transaction(self) -> bool:
        """True between MAIL FROM and the end of the transaction."""

    def evict(self) -> None:
        """Say 421 and close the connection."""

    def shorten(self, timeout: float) -> None:
        """Wait at most ``timeout`` seconds (from ``idle_since``) for the next command."""


S = TypeVar("S", bound=Occupant)


class Slots(Generic[S]):
    """The open sessions of one LMTP listener, counted against ``capacity``.

    Sessions are held weakly: one the event loop dropped without telling it is gone
    (``connection_lost`` is what normally removes a session).
    """

    def __init__(self, capacity: int, idle_timeout: float, pressure_idle_timeout: float) -> None:
        self.capacity = capacity
        self.idle_timeout = idle_timeout
        self.pressure_idle_timeout = pressure_idle_timeout
        # Insertion-ordered, so the oldest session wins a tie on idle time.
        self._sessions: weakref.WeakKeyDictionary[S, None] = weakref.WeakKeyDictionary()
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[S]:
        return iter(list(self._sessions))

    @property
    def full(self) -> bool:
        return len(self._sessions) >= self.capacity

    def add(self, session: S) -> None:
        self._sessions[session] = None

    def discard(self, session: S) -> None:
        self._sessions.pop(session, None)

    def timeout(self) -> float:
        """How long an idle session may wait for its next command now."""
        if self.full:
            return min(self.idle_timeout, self.pressure_idle_timeout)
        return self.idle_timeout

    def make_room(self) -> bool:
        """Free one slot for a newcomer if the cap is full; False if none can be freed.

        On a full cap the remaining idle sessions get the pressure timeout, whether or not
        a slot could be freed, so that a cap held by silent clients empties quickly.
        """
        if not self.full:
            return True
        victim = self._longest_idle()
        if victim is not None:
            self.discard(victim)
            victim.evict()
            self.evicted += 1
        self._apply_pressure()
        return victim is not None

    def _longest_idle(self) -> S | None:
        candidates = [
            (session.in_transaction, since, index, session)
            for index, session in enumerate(self._sessions)
            if (since := session.idle_since) is not None
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda c: c[:3])[3]

    def _apply_pressure(self) -> None:
        timeout = min(self.idle_timeout, self.pressure_idle_timeout)
        for session in list(self._sessions):
            if session.idle_since is not None:
                session.shorten(timeout)
