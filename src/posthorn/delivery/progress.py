"""Which recipients of a queue entry are done, kept on disk across a crash.

The outgoing runner appends each finished batch and fsyncs, so a runner killed in the
middle of a large post re-sends at most the batch that was in flight.  The journal is
named by a hash of what identifies the entry (list, arrival time, Message-ID,
recipients, retry count), which is the same when the entry is recovered or unshunted.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["Progress", "entry_key"]


def entry_key(message_id: str, msgdata: dict[str, Any]) -> str:
    parts = (
        msgdata.get("list_id"),
        msgdata.get("received_time"),
        message_id,
        sorted(msgdata["recipients"]) if "recipients" in msgdata else None,
        msgdata.get("retries", 0),
    )
    return hashlib.sha1(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()


class Progress:
    """An append-only list of finished addresses for one entry."""

    def __init__(self, directory: Path, key: str) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = directory / f"{key}.done"
        self._lock = threading.Lock()
        self.done: set[str] = set()
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8", errors="surrogateescape")
            self.done = {line for line in text.splitlines() if line}

    def record(self, addresses: Iterable[str]) -> None:
        lines = "".join(f"{address}\n" for address in addresses)
        if not lines:
            return
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, lines.encode("utf-8", "surrogateescape"))
                os.fsync(fd)
            finally:
                os.close(fd)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
