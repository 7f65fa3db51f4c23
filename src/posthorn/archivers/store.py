"""A maildir-style message store keyed by permalink key, safe against Message-ID collisions.

Used by the ``prototype`` archiver and by the reference LMTP archive server.  Each
message is one file, written to ``tmp/``, fsynced, then linked into ``new/`` under its
key, so a reader never sees half a message and a crash leaves at most a stray file in
``tmp/``.  The key is the Message-ID-Hash; a *different* message whose Message-ID
hashes the same gets the next free candidate (``HASH-2``, ``HASH-3``, ...), and the
*same* bytes offered again are found and not stored twice.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["MaildirStore", "candidates"]


def candidates(key: str, limit: int) -> Iterator[str]:
    """The keys a message with this hash may be stored under, in order of preference."""
    yield key
    for n in range(2, limit + 1):
        yield f"{key}-{n}"


class MaildirStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.new = root / "new"

    def get(self, key: str) -> bytes | None:
        """The message stored under ``key``, or None."""
        if "/" in key or key.startswith("."):
            return None
        try:
            return (self.new / key).read_bytes()
        except FileNotFoundError:
            return None

    def taken(self, key: str) -> bool:
        return (self.new / key).exists()

    def keys(self) -> list[str]:
        return sorted(p.name for p in self.new.iterdir()) if self.new.is_dir() else []

    def find(self, key: str, data: bytes, limit: int) -> str | None:
        """The candidate of ``key`` that already holds exactly ``data``, if any."""
        for candidate in candidates(key, limit):
            stored = self.get(candidate)
            if stored is None:
                return None
            if stored == data:
                return candidate
        return None

    def add(self, key: str, data: bytes, limit: int = 100) -> str:
        """Store ``data`` under the first free candidate of ``key``; return that key.

        Idempotent: if one candidate already holds these bytes, that one is returned.
        """
        for candidate in candidates(key, limit):
            stored = self.get(candidate)
            if stored == data:
                return candidate
            if stored is None and self.put(candidate, data):
                return candidate
        raise FileExistsError(f"{limit} messages already stored under {key}")

    def put(self, key: str, data: bytes) -> bool:
        """Store ``data`` exactly under ``key``; False if the key is taken."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.new.mkdir(parents=True, exist_ok=True)
        temp = self.tmp / f"{time.time_ns()}.{os.getpid()}.{socket.gethostname()}"
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            # A link, not a rename: rename would silently replace a message another
            # writer stored under the same key a moment ago; link fails instead.
            os.link(temp, self.new / key)
        except FileExistsError:
            return False
        finally:
            temp.unlink()
        # The new directory entry must survive a crash as well as the file's data.
        fd = os.open(self.new, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return True
