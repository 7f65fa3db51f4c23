"""The bounce score: pure functions of the stored state, the settings and the time.

As in GNU Mailman, the score counts days on which an address bounced, not bounces:
one failed post to a large list can come back as several notices, and a flaky
server should not be punished for every message of a busy day.  A score older than
``bounce_info_stale_after`` is forgotten, so a few bounces spread over months never
add up to a disabled member.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from posthorn.config.types import parse_duration
from posthorn.model.bounces import BounceState

__all__ = ["add_bounce", "duration", "warning_due"]


def duration(setting: str) -> timedelta:
    """A list's duration setting (``7d``, ``1s``) as a timedelta."""
    return timedelta(seconds=parse_duration(setting))


def add_bounce(state: BounceState, now: datetime, stale_after: timedelta) -> BounceState | None:
    """The state after a bounce at ``now``, or None when today's bounce was counted already."""
    last = state.last_bounce
    if last is not None and last.date() == now.date() and state.score > 0:
        return None
    score = 1 if last is None or now - last > stale_after else state.score + 1
    return dataclasses.replace(state, score=score, last_bounce=now)


def warning_due(state: BounceState, now: datetime, interval: timedelta) -> bool:
    """Whether a disabled member's next warning is due (the first one always is)."""
    return state.last_warning is None or now - state.last_warning >= interval
