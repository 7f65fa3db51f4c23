"""Sockets the master listens on for a service runner, kept while runners come and go.

A runner that binds its own port refuses connections from the moment it exits until
its successor listens, so it can never be recycled to give back memory.  Bound by the
master, the socket outlives each runner: connections arriving in between wait in its
backlog for the next one.  Bound as waitress binds (every address the host name
resolves to, the same options), so that the server behaves as if it had bound them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator, Sequence

from waitress.adjustments import Adjustments

__all__ = ["Idleness", "Listeners", "claiming", "listen_for"]

# What the master listens on, by runner name, kept from one preload to the next.
_held: dict[str, Listeners] = {}


class Listeners:
    """The listening sockets for one ``host``:``port``."""

    def __init__(self, host: str, port: int, sockets: list[socket.socket]) -> None:
        self.address = (host, port)
        self.sockets = sockets

    @classmethod
    def bind(cls, host: str, port: int, *, keep: Listeners | None = None) -> Listeners:
        """Listen on ``host``:``port``; ``keep`` is taken as it is when it listens there
        already (a reload that changed nothing), else closed.  OSError when it cannot."""
        if keep is not None:
            if keep.address == (host, port):
                return keep
            keep.close()
        adjustments = Adjustments(host=host, port=port)
        sockets: list[socket.socket] = []
        try:
            for family, kind, proto, address in adjustments.listen:
                sock = socket.socket(family, kind, proto)
                sockets.append(sock)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                sock.listen(adjustments.backlog)
        except OSError:
            for sock in sockets:
                sock.close()
            raise
        return cls(host, port, sockets)

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


def listen_for(name: str, host: str, port: int) -> Listeners | None:
    """The master's sockets on ``host``:``port`` for runner ``name`` (those it held
    already when the address is unchanged).  None, logged, when they cannot be bound:
    the runner then binds the port itself, and reports why it cannot."""
    for claimed in _claims:
        claimed.add(name)
    try:
        listeners = Listeners.bind(host, port, keep=_held.pop(name, None))
    except OSError as error:
        logging.getLogger("posthorn.master").warning(
            "cannot listen for %s on %s:%d (%s); the runner will try itself",
            name,
            host,
            port,
            error,
        )
        return None
    _held[name] = listeners
    return listeners


@contextlib.contextmanager
def claiming() -> Iterator[None]:
    """Around a preload: sockets no runner asks for again by its end are closed.

    A reload that turns a service runner off (or fails to preload) must not leave the
    master holding its port, where clients would wait for a greeting that never comes
    instead of being refused.
    """
    before = set(_held)
    claimed: set[str] = set()
    _claims.append(claimed)
    try:
        yield
    finally:
        _claims.remove(claimed)
        for name in before - claimed:
            listeners = _held.pop(name, None)
            if listeners is not None:
                listeners.close()


# The names asked for within each open ``claiming`` block.
_claims: list[set[str]] = []


class Idleness:
    """When a runner on the master's sockets may exit to be recycled: it has served,
    then nothing for ``max_idle`` seconds, and nothing is under way."""

    def __init__(self, max_idle: float, poll: float) -> None:
        self.max_idle = max_idle
        self.poll = poll
        self.served = 0
        self.last = 0.0

    def touch(self, *, served: bool = False) -> None:
        """Something began (``served``) or ended now."""
        self.served += served
        self.last = time.monotonic()

    async def wait(
        self,
        stopping: asyncio.Event,
        busy: Callable[[], bool],
        servers: Sequence[asyncio.AbstractServer],
    ) -> bool:
        """True once idle, ``servers`` closed and what they accepted meanwhile over
        (never cut); False when ``stopping`` is set first."""
        while not stopping.is_set():
            # Woken when the last activity is max_idle old, not polling in between.
            due = self.last + self.max_idle - time.monotonic()
            await self._pause(stopping, max(due, self.poll))
            if self.served and time.monotonic() - self.last >= self.max_idle and not busy():
                break
        else:
            return False
        for server in servers:
            server.close()
        # Let connections accepted but not yet handed a protocol begin theirs.
        for _ in range(2):
            await asyncio.sleep(0)
        while busy() and not stopping.is_set():
            await self._pause(stopping, self.poll)
        return not stopping.is_set()

    @staticmethod
    async def _pause(stopping: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout)
