"""A list nobody reads in digests: its issues are numbered and dropped, nothing is lost.

The digest runner, drained in process, against the list's real mailbox and database:
an issue that fills with no digest member is numbered as GNU Mailman numbers it and
forgotten where it waited; a member who switches to digests afterwards receives what
gathers from then on, numbered after the dropped issues.
"""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import Message

import pytest

from posthorn.digests import mailbox
from posthorn.digests.store import digest_store
from posthorn.queues import Switchboard
from posthorn.runners.digest import DigestRunner
from posthorn.site import Site
from tests.waiting import drain

LIST = "dev@example.org"
LIST_ID = "dev.example.org"


def post(n: int) -> Message:
    """A post past the 1 KiB threshold the tests set: each fills an issue."""
    text = "lorem ipsum dolor sit amet\n" * 40
    return email.message_from_string(
        f"From: Poster <p@example.com>\nSubject: Post {n}\nMessage-ID: <{n}@x>\n\n{text}"
    )


def trigger(site: Site) -> None:
    """What to-digest queues once the mailbox passes its threshold."""
    with Switchboard(site.config.path("queue_dir") / "digest") as queue:
        queue.enqueue(Message(), {"list_id": LIST_ID, "digest_trigger": "size"})


def virgin(site: Site) -> list[Message]:
    with Switchboard(site.config.path("queue_dir") / "virgin") as queue:
        found = []
        for filebase in queue.get_files():
            msg, _ = queue.dequeue(filebase)
            queue.finish(filebase)
            found.append(msg)
        return found


def process_waiting(runner: DigestRunner) -> None:
    """What the runner's loop does with what has arrived: no cache cleared first, as
    ``drain`` would, so what it kept must follow the database by itself."""
    for filebase in runner.switchboard.get_files():
        runner._process_entry(filebase)


def numbers(site: Site) -> tuple[int, int]:
    mlist = site.lists.require(LIST)
    return mlist.volume, mlist.next_digest_number


@pytest.fixture
def runner(site: Site) -> Iterator[DigestRunner]:
    """The digest runner of a list whose every post fills an issue."""
    site.lists.create(LIST)
    site.lists.update(LIST, digest_size_threshold=1)
    digests = DigestRunner(site, "digest")
    yield digests
    digests.close()


def test_an_issue_nobody_receives_is_numbered_and_dropped(site: Site, runner: DigestRunner) -> None:
    site.lists.subscribe(LIST, "r@example.com")
    store = digest_store(site)
    for round in (1, 2):
        for n in range(3):
            store.append(LIST_ID, post(10 * round + n), f"k{round}{n}")
        trigger(site)
        assert drain(runner) == 1
        assert numbers(site) == (1, round + 1)
        assert store.size(LIST_ID) == 0 and store.pending(LIST_ID) == []
    assert virgin(site) == []
    # A trigger with nothing gathered takes no number.
    trigger(site)
    assert drain(runner) == 1
    assert numbers(site) == (1, 3)
    # A redone post of a dropped issue is still recognised.
    assert store.append(LIST_ID, post(10), "k10")[1] == 0


def test_a_member_who_switches_to_digests_gets_what_gathers_next(
    site: Site, runner: DigestRunner
) -> None:
    member = site.lists.subscribe(LIST, "r@example.com")
    store = digest_store(site)
    store.append(LIST_ID, post(1), "k1")
    trigger(site)
    process_waiting(runner)
    assert virgin(site) == []
    # Posts gathered before the switch wait for the next issue as they always did.
    store.append(LIST_ID, post(2), "k2")
    site.lists.update_member(member.member_id, delivery_mode="mime_digests")
    store.append(LIST_ID, post(3), "k3")
    trigger(site)
    # A runner that keeps what it read about the list must see the switch.
    process_waiting(runner)
    (digest,) = virgin(site)
    assert digest["Subject"] == "Dev Digest, Vol 1, Issue 2"
    text = digest.as_string()
    assert "Post 2" in text and "Post 3" in text and "Post 1" not in text
    assert numbers(site) == (1, 3)
    path = mailbox.digest_mailbox(site.config.path("data_dir"), LIST_ID)
    assert mailbox.size(path) == 0


def test_a_switch_away_from_digests_is_seen_by_a_running_sender(
    site: Site, runner: DigestRunner
) -> None:
    member = site.lists.subscribe(LIST, "r@example.com", delivery_mode="plaintext_digests")
    store = digest_store(site)
    store.append(LIST_ID, post(1), "k1")
    trigger(site)
    process_waiting(runner)
    assert len(virgin(site)) == 1
    site.lists.update_member(member.member_id, delivery_status="by_user")
    store.append(LIST_ID, post(2), "k2")
    trigger(site)
    process_waiting(runner)
    assert virgin(site) == []
    assert numbers(site) == (1, 3)
