"""Digest posts in the database: appended on one host, sent from another, each once.

The hosts are sites with var dirs of their own on one PostgreSQL database, as two
machines sharing no folder would be.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

import pytest

from posthorn.delivery.recipients import recipient_chunks
from posthorn.delivery.records import delivery_records
from posthorn.digests.mailbox import FileDigests
from posthorn.digests.send import DigestSender
from posthorn.digests.store import digest_store
from posthorn.model.digest_posts import DatabaseDigests
from posthorn.model.news_watermarks import DatabaseWatermarks
from posthorn.site import Site

LIST = "dev@example.org"
LIST_ID = "dev.example.org"


def stores(hosts: list[Site]) -> list[DatabaseDigests]:
    found = [digest_store(site) for site in hosts]
    assert all(isinstance(store, DatabaseDigests) for store in found)
    return found  # type: ignore[return-value]


def post(n: int, message_id: bool = True) -> Message:
    msg = Message()
    msg["From"] = "poster@example.com"
    msg["To"] = LIST
    msg["Subject"] = f"Post {n}"
    if message_id:
        msg["Message-ID"] = f"<p{n}@example.com>"
    msg.set_payload(f"Text {n}\nFrom the start of a line\n")
    return msg


def subjects(messages: list[Message]) -> list[str]:
    return [str(m["Subject"]) for m in messages]


def test_posts_appended_on_two_hosts_make_one_issue(hosts: list[Site]) -> None:
    a, b = stores(hosts)
    size, added = a.append(LIST_ID, post(1), "k1")
    assert added > 0 and size == added
    # The same post again on the other host (a redone pipeline entry): kept once.
    assert b.append(LIST_ID, post(1), "k1") == (size, 0)
    size, added = b.append(LIST_ID, post(2), "k2")
    assert b.size(LIST_ID) == a.size(LIST_ID) == size
    assert b.rotate(LIST_ID, lambda: (1, 1))
    assert a.size(LIST_ID) == 0
    assert not a.rotate(LIST_ID, lambda: pytest.fail("numbered with nothing gathered"))
    a.append(LIST_ID, post(3), "k3")
    assert a.pending(LIST_ID) == [(1, 1)]
    issue = a.read(LIST_ID, (1, 1))
    assert subjects(issue) == ["Post 1", "Post 2"]
    assert "From the start of a line" in str(issue[0].get_payload())
    a.remove(LIST_ID, (1, 1))
    assert b.pending(LIST_ID) == []
    # After the issue went out, a redo of its post is still recognised.
    assert b.append(LIST_ID, post(1), "k1")[1] == 0
    assert b.rotate(LIST_ID, lambda: (1, 2))
    assert subjects(b.read(LIST_ID, (1, 2))) == ["Post 3"]
    # Another list's posts are its own.
    assert a.size("other.example.org") == 0


def test_an_issue_nobody_receives_is_numbered_and_forgotten(hosts: list[Site]) -> None:
    a, b = stores(hosts)
    a.append(LIST_ID, post(1), "k1")
    numbered: list[int] = []
    assert a.discard(LIST_ID, lambda: numbered.append(1) or (1, 1))
    assert numbered == [1]
    assert not b.discard(LIST_ID, lambda: pytest.fail("numbered with nothing gathered"))
    assert a.size(LIST_ID) == 0 and a.pending(LIST_ID) == []
    # A redo of a forgotten post is still recognised.
    assert b.append(LIST_ID, post(1), "k1")[1] == 0


def test_posts_without_a_key_are_each_kept(hosts: list[Site]) -> None:
    a, _ = stores(hosts)
    a.append(LIST_ID, post(1, message_id=False))
    a.append(LIST_ID, post(1, message_id=False))
    assert a.rotate(LIST_ID, lambda: (1, 1))
    assert subjects(a.read(LIST_ID, (1, 1))) == ["Post 1", "Post 1"]


def test_only_the_newest_keys_are_remembered(
    hosts: list[Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("posthorn.model.digest_posts.SEEN_KEEP", 2)
    a, _ = stores(hosts)
    for n in (1, 2, 3):
        a.append(LIST_ID, post(n), f"k{n}")
        assert a.rotate(LIST_ID, lambda n=n: (1, n))  # type: ignore[misc]
        a.remove(LIST_ID, (1, n))
    # k1 is forgotten, k2 and k3 are not.
    assert a.append(LIST_ID, post(1), "k1")[1] > 0
    assert a.append(LIST_ID, post(2), "k2")[1] == 0
    assert a.append(LIST_ID, post(3), "k3")[1] == 0


def test_one_host_gathers_and_another_sends_once(hosts: list[Site]) -> None:
    a_site, b_site = hosts
    a_site.lists.create(LIST, owners=["owner@example.org"])
    a_site.lists.subscribe(LIST, "mime@example.com", delivery_mode="mime_digests")
    a, _ = stores(hosts)
    for n in (1, 2):
        a.append(LIST_ID, post(n), f"k{n}")
    sent: list[tuple[Message, dict[str, Any]]] = []
    mlist = b_site.lists.get(LIST)
    assert mlist is not None
    assert DigestSender(b_site, lambda m, d: sent.append((m, d))).run(mlist, force=True) == 1
    assert DigestSender(a_site, lambda m, d: sent.append((m, d))).run(mlist, force=True) == 0
    ((digest, data),) = sent
    chunks = recipient_chunks(b_site.lists, mlist, data, 10)
    assert [address for chunk in chunks for address in chunk] == ["mime@example.com"]
    assert "Post 1" in digest.as_string() and "Post 2" in digest.as_string()


def test_a_site_on_sqlite_keeps_its_digests_in_mailboxes(site: Site) -> None:
    found = digest_store(site)
    assert isinstance(found, FileDigests)
    assert found.data_dir == site.config.path("data_dir")


def test_posts_left_in_a_mailbox_before_the_move_are_sent_first(hosts: list[Site]) -> None:
    site = hosts[0]
    site.lists.create(LIST, owners=["owner@example.org"])
    site.lists.subscribe(LIST, "mime@example.com", delivery_mode="mime_digests")
    # A site that kept its digests in data_dir before they moved to the database.
    earlier = FileDigests(site.config.path("data_dir"))
    earlier.append(LIST_ID, post(1), "k1")
    stores(hosts)[0].append(LIST_ID, post(2), "k2")
    sent: list[Message] = []
    mlist = site.lists.get(LIST)
    assert mlist is not None
    assert DigestSender(site, lambda m, d: sent.append(m)).run(mlist, force=True) == 2
    first, second = (m.as_string() for m in sent)
    assert "Post 1" in first and "Post 2" not in first
    assert "Post 2" in second
    assert earlier.size(LIST_ID) == 0 and earlier.pending(LIST_ID) == []


def test_the_runners_own_rows_leave_the_change_stamp_alone(hosts: list[Site]) -> None:
    """Written for every post, they must not throw away what the runners cache."""
    site = hosts[0]
    site.lists.create(LIST, owners=["owner@example.org"])
    site.lists.update(LIST, linked_newsgroup="local.test")
    mlist = site.lists.get(LIST)
    assert mlist is not None
    before = site.databases.stamp.token()
    stores(hosts)[0].append(LIST_ID, post(1), "k1")
    with delivery_records(site).open(LIST_ID, "list", "<p1@example.com>") as record:
        record.record(["a@example.com"])
    DatabaseWatermarks(site.databases.session_factory("message")).set(mlist, 7)
    assert site.databases.stamp.token() == before
