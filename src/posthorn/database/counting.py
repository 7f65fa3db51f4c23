"""How many SQL statements a process has sent, for the debug line of each queue entry.

With ``[logging] level: debug`` a queue runner logs, per entry, the statements its
processing sent (``runners.base``): the database work of one post, which must not
grow with the members of its list (the roster is read a chunk at a time, one
statement per chunk).  Counted on every engine of the process, when the cursor runs.

Reads nothing; writes nothing but its counter.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, event

__all__ = ["StatementCounter"]


class StatementCounter:
    """Counts every statement sent by any engine of this process once ``install``-ed."""

    _installed: StatementCounter | None = None

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    @classmethod
    def install(cls) -> StatementCounter:
        """The process's counter, listening from the first call on."""
        if cls._installed is None:
            counter = cls()
            event.listen(Engine, "before_cursor_execute", counter._seen)
            cls._installed = counter
        return cls._installed

    def _seen(self, *_args: Any) -> None:
        with self._lock:
            self.count += 1
