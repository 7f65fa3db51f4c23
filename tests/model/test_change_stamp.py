"""The change stamp: what the runners cache per post is thrown away by every change.

Two sites on one configuration stand for two processes (a runner and the REST API or
the command line): a change made through either moves the stamp the other reads.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message
from typing import Any

import pytest

from posthorn.config import Config
from posthorn.delivery.preferences import member_preferences
from posthorn.digests.numbering import next_issue
from posthorn.interfaces.lists import IMailingList
from posthorn.model.base import utc_now
from posthorn.runners.base import Runner
from posthorn.site import Site
from tests.conftest import SiteFactory
from tests.waiting import drain

LIST = "stamp@example.org"


def test_a_committed_change_moves_the_stamp_and_a_read_does_not(site: Site) -> None:
    stamp = site.databases.stamp
    site.lists.create(LIST)
    before = stamp.token()
    site.lists.get(LIST)
    site.lists.find_members(list_id="stamp.example.org")
    assert stamp.token() == before
    site.lists.subscribe(LIST, "a@example.com")
    assert stamp.token() != before


def test_counting_a_post_leaves_the_stamp_alone(site: Site) -> None:
    site.lists.create(LIST)
    before = site.databases.stamp.token()
    first = site.lists.record_post(LIST, "<one@example.com>")
    assert site.lists.record_post(LIST, "<two@example.com>") == first + 1
    assert site.databases.stamp.token() == before


def test_a_rolled_back_change_leaves_the_stamp_alone(site: Site) -> None:
    site.lists.create(LIST)
    site.lists.subscribe(LIST, "a@example.com")
    before = site.databases.stamp.token()
    try:
        site.lists.subscribe(LIST, "a@example.com")
    except Exception:
        pass
    else:
        raise AssertionError("a second subscription of one address was taken")
    assert site.databases.stamp.token() == before


def test_a_cached_preference_follows_a_change_made_by_another_process(
    config: Config, site: Site, make_site: SiteFactory
) -> None:
    site.lists.create(LIST)
    member = site.lists.subscribe(LIST, "a@example.com")
    mlist = site.lists.get(LIST)
    assert mlist is not None
    runner = make_site(config)  # the runner's own site, as in its process
    found = member_preferences(runner, mlist, "A@example.com")
    assert found is not None and found["receive_own_postings"] is True
    site.lists.set_member_preferences(member.member_id, {"receive_own_postings": False})
    found = member_preferences(runner, mlist, "a@example.com")
    assert found is not None and found["receive_own_postings"] is False


def test_a_cached_answer_is_kept_while_nothing_changes(site: Site) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert site.cache.get("key", compute) == 1
    assert site.cache.get("key", compute) == 1
    site.lists.create(LIST)
    assert site.cache.get("key", compute) == 2


def test_numbering_a_digest_leaves_the_stamp_alone(site: Site) -> None:
    site.lists.create(LIST)
    before = site.databases.stamp.token()
    engine = site.databases.engine("list")
    first = next_issue(engine, "stamp.example.org", "monthly", utc_now())
    assert next_issue(engine, "stamp.example.org", "monthly", utc_now()) == (
        first[0],
        first[1] + 1,
    )
    assert site.databases.stamp.token() == before


def test_a_stamp_that_cannot_move_leaves_the_change_standing(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.databases.stamp.path.unlink(missing_ok=True)
    site.databases.stamp.path.mkdir(parents=True)  # no file can be appended there
    site.lists.create(LIST)
    assert site.lists.get(LIST) is not None
    assert "cannot move the change stamp" in caplog.text


def _counter() -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    return calls, compute


def test_a_pinned_piece_of_work_sees_changes_made_before_it(
    config: Config, site: Site, make_site: SiteFactory
) -> None:
    runner = make_site(config)
    _calls, compute = _counter()
    assert runner.cache.get("key", compute) == 1
    site.lists.create(LIST)  # another process, before the work is picked up
    with runner.cache.pinned():
        assert runner.cache.get("key", compute) == 2
        assert runner.cache.get("key", compute) == 2


def test_a_pinned_piece_of_work_reads_the_stamp_once(
    config: Config, site: Site, make_site: SiteFactory
) -> None:
    runner = make_site(config)
    _calls, compute = _counter()
    with runner.cache.pinned():
        assert runner.cache.get("key", compute) == 1
        site.lists.create(LIST)  # another process, while the work runs
        assert runner.cache.get("key", compute) == 1
    assert runner.cache.get("key", compute) == 2


def test_a_pinned_piece_of_work_sees_its_own_changes(site: Site) -> None:
    _calls, compute = _counter()
    with site.cache.pinned():
        assert site.cache.get("key", compute) == 1
        site.lists.create(LIST)
        assert site.cache.get("key", compute) == 2


def test_a_runner_reads_the_stamp_once_per_entry(
    config: Config, site: Site, make_site: SiteFactory
) -> None:
    runner_site = make_site(config)
    _calls, compute = _counter()
    seen: list[int] = []

    class Looker(Runner):
        def process(
            self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]
        ) -> None:
            seen.append(runner_site.cache.get("key", compute))
            # Another process changes the site while the entry is in hand.
            site.lists.create(f"n{len(seen)}-{LIST}")
            seen.append(runner_site.cache.get("key", compute))

    runner = Looker(runner_site, "incoming")
    try:
        for _ in range(2):
            runner.queue("incoming").enqueue(b"Subject: a post\r\n\r\nbody\r\n", {})
        assert drain(runner) == 2
    finally:
        runner.close()
    # Each entry read the stamp once, when it was picked up: the change made while the
    # first was in hand is seen by the second.
    assert seen == [1, 1, 2, 2]
