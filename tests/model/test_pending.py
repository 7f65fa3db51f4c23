"""Pending confirmations: random tokens, one confirmation each, and expiry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from posthorn.model.list_manager import DatabaseListManager
from posthorn.site import Site


class Clock:
    """A clock the test moves by hand, so expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def manager_with(site: Site, clock: Clock) -> DatabaseListManager:
    return DatabaseListManager(
        site.databases.session_factory("list"),
        site.events,
        site.users,
        lambda: site.domains,
        clock=clock,
    )


def test_tokens_are_random_lowercase_hex(site: Site) -> None:
    tokens = {
        site.lists.add_pending("subscription", {"n": n}, timedelta(days=1)) for n in range(200)
    }
    assert len(tokens) == 200
    # Never "-" first (a command line would take it for an option), and no case for an
    # MTA to fold in `LIST-confirm+TOKEN@`.
    assert all(re.fullmatch(r"[0-9a-f]{40}", token) for token in tokens)


def test_confirm_takes_the_request_out(site: Site) -> None:
    data = {"email": "anne@example.org", "display_name": "Anne", "flags": [1, 2]}
    token = site.lists.add_pending(
        "subscription", data, timedelta(days=3), list_id="dev.example.org"
    )
    pending = site.lists.get_pending(token)
    assert pending is not None and dict(pending.data) == data
    assert (pending.type, pending.list_id, pending.token) == (
        "subscription",
        "dev.example.org",
        token,
    )
    assert pending.expires_on - pending.created_on == timedelta(days=3)
    confirmed = site.lists.confirm(token)
    assert confirmed == pending
    assert site.lists.confirm(token) is None
    assert site.lists.get_pending(token) is None
    assert site.lists.get_pending("no-such-token") is None


def test_pendings_expire(site: Site) -> None:
    clock = Clock()
    lists = manager_with(site, clock)
    short = lists.add_pending("subscription", {"n": 1}, timedelta(hours=1), list_id="a.example.org")
    long = lists.add_pending("unsubscription", {"n": 2}, timedelta(days=2), list_id="a.example.org")
    assert [p.token for p in lists.pendings(list_id="a.example.org")] == [short, long]
    clock.now += timedelta(hours=1)
    # Expired is the same as unknown, whether or not eviction ran.
    assert lists.get_pending(short) is None
    assert lists.confirm(short) is None
    assert [p.token for p in lists.pendings()] == [long]
    assert [p.token for p in lists.pendings(type="unsubscription")] == [long]
    assert lists.pendings(type="subscription") == []
    assert lists.evict_expired() == 1
    clock.now += timedelta(days=2)
    assert lists.evict_expired() == 1
    assert lists.pendings() == []
