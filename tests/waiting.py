"""The one way tests wait: poll a condition until it holds, or fail saying what was awaited.

Every test that waits for another process (a runner, a sink, a web server) uses this,
never a fixed sleep that decides the outcome; the deadline is generous because a hop
can take seconds on a loaded machine, and a condition that holds returns at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol, TypeVar

__all__ = ["DEADLINE", "drain", "queues_idle", "wait_for"]

DEADLINE = 30.0
POLL = 0.02
T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], what: str, deadline: float = DEADLINE) -> T:
    """The first true value of ``condition``; an AssertionError after ``deadline`` s."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline}s waiting for {what}")
        time.sleep(POLL)


class _RunsOnce(Protocol):
    def run_once(self) -> int: ...


def drain(*runners: _RunsOnce) -> int:
    """Run ``runners`` in this process until none finds work; how many entries they handled."""
    total = 0
    while handled := sum(runner.run_once() for runner in runners):
        total += handled
    return total


def queues_idle(queue_dir: Path, names: Iterable[str]) -> bool:
    """No entry waits (``.pck``) in, or is claimed (``.bak``) from, the queues ``names``.

    The end state for asserting that nothing more arrives: a runner writes the next
    queue's entry before it drops its claim, so once this holds for the queues of every
    running runner, nothing moves until something new comes in.
    """
    for name in names:
        folder = queue_dir / name
        if any(folder.glob("*.pck")) or any(folder.glob("*.bak")):
            return False
    return True
