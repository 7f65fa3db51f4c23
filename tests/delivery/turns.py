"""One check for every kind of delivery record: a second process opening the record of
the same post waits until the first has closed it, then sees what the first served."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from tests.processes import REPO
from tests.waiting import wait_for


class OpenRecord(Protocol):
    def record(self, addresses: Iterable[str]) -> None: ...

    def close(self) -> None: ...


def second_process_waits(
    record: OpenRecord, opening: str, waiting: Callable[[subprocess.Popen[str]], bool]
) -> None:
    """``record`` is open; ``opening`` is the code (imports, then a ``with ... as r:``
    line) that opens the same record in another process; ``waiting`` tells when the
    kernel shows that process waiting for the lock."""
    code = f"import time\n{opening}\n    print(time.monotonic(), sorted(r.done), flush=True)\n"
    try:
        other = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO
        )
        wait_for(lambda: waiting(other), "the second reader waiting for the lock", 60)
        assert other.poll() is None
        record.record(["a@example.com"])
        released = time.monotonic()
    finally:
        record.close()
    output, _ = other.communicate(timeout=30)
    acquired, done = output.split(" ", 1)
    assert float(acquired) >= released
    assert done.strip() == "['a@example.com']"
