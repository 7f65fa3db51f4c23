"""A runner's crash budget: ``max_restarts`` crashes within ``[master] crash_window``.

A count that only grows would end a runner that crashes once a day after a fortnight,
and with the lmtp runner all mail intake, for good.  So only crashes within the last
``crash_window`` count: a runner is given up only when it crashes more than
``max_restarts`` times within one window, which is a crash loop, not bad luck spread
over a month.  A given-up runner stays down until ``posthorn restart`` (or a new
``start``), and ``posthorn status`` says so.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["CrashBudget"]


@dataclass
class CrashBudget:
    """The crash times of one runner process slot that still count."""

    limit: int  # max_restarts
    window: float  # seconds a crash keeps counting
    _times: deque[float] = field(default_factory=deque, repr=False)

    def record(self, now: float | None = None) -> bool:
        """Count a crash now; True while the budget still allows a restart."""
        now = time.monotonic() if now is None else now
        self._times.append(now)
        self._forget(now)
        return len(self._times) <= self.limit

    def count(self, now: float | None = None) -> int:
        """The crashes within the window."""
        self._forget(time.monotonic() if now is None else now)
        return len(self._times)

    def reset(self) -> None:
        self._times.clear()

    def _forget(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
