"""Sockets the master listens on for a service runner, kept while runners come and go.

A runner that binds its own port refuses connections from the moment it exits until
its successor listens, so it can never be recycled to give back memory.  Bound by the
master, the socket outlives each runner: connections arriving in between wait in its
backlog for the next one.  Bound as waitress binds (every address the host name
resolves to, the same options), so that the server behaves as if it had bound them.
"""

from __future__ import annotations

import contextlib
import socket

from waitress.adjustments import Adjustments

__all__ = ["Listeners"]


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
