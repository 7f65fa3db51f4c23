"""The score counts days with bounces and forgets stale ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from posthorn.bounces.scoring import add_bounce, duration, warning_due
from posthorn.model.bounces import BounceState

DAY = timedelta(days=1)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STALE = duration("7d")


def test_first_bounce_scores_one() -> None:
    scored = add_bounce(BounceState("dev.example.org", "a@x.org"), T0, STALE)
    assert scored is not None and scored.score == 1 and scored.last_bounce == T0


def test_one_increment_a_day() -> None:
    first = add_bounce(BounceState("dev.example.org", "a@x.org"), T0, STALE)
    assert first is not None
    assert add_bounce(first, T0 + timedelta(hours=5), STALE) is None
    second = add_bounce(first, T0 + DAY, STALE)
    assert second is not None and second.score == 2


def test_stale_information_is_reset() -> None:
    state = BounceState("dev.example.org", "a@x.org", score=4, last_bounce=T0)
    later = add_bounce(state, T0 + 8 * DAY, STALE)
    assert later is not None and later.score == 1


def test_warning_due() -> None:
    state = BounceState("dev.example.org", "a@x.org", warnings_sent=1, last_warning=T0)
    assert not warning_due(state, T0 + timedelta(hours=1), DAY)
    assert warning_due(state, T0 + DAY, DAY)
    assert warning_due(BounceState("dev.example.org", "a@x.org"), T0, DAY)
