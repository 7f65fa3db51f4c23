"""A roster read a chunk at a time: every member once, and one statement per chunk.

``recipient_chunks`` is how the outgoing runner reads a list's roster for a post: in
chunks of ``roster_chunk`` members, by id, each in its own short session.  The chunks
together are every enabled member of the asked delivery modes, none twice, none
missed at a chunk's edge; and the statements it takes grow with the chunks, not with
the members.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from posthorn.delivery.recipients import recipient_chunks
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site
from tests.rosters import add_members, numbered

LIST = "big@example.org"
LIST_ID = "big.example.org"
CHUNK = 64


@pytest.fixture
def mlist(site: Site) -> IMailingList:
    return site.lists.create(LIST)


@contextmanager
def counted(site: Site) -> Iterator[list[int]]:
    """The statements the list database's engine sends inside the block."""
    seen = [0]

    def one(*_args: Any) -> None:
        seen[0] += 1

    engine: Engine = site.databases.engine("list")
    event.listen(engine, "before_cursor_execute", one)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", one)


def read(site: Site, mlist: IMailingList, msgdata: dict[str, Any]) -> list[list[str]]:
    return list(recipient_chunks(site.lists, mlist, msgdata, CHUNK))


def test_every_enabled_member_once_across_chunk_edges(site: Site, mlist: IMailingList) -> None:
    # Members in several runs, so that ids of other kinds sit between regular ones.
    add_members(site, LIST_ID, numbered(CHUNK * 3))
    add_members(site, LIST_ID, numbered(50, 10_000), delivery_mode="mime_digests")
    add_members(site, LIST_ID, numbered(40, 20_000), delivery_status="by_bounces")
    add_members(site, LIST_ID, numbered(CHUNK + 1, 30_000))
    site.lists.subscribe(LIST, "owner@example.org", role="owner")
    chunks = read(site, mlist, {})
    assert all(0 < len(chunk) <= CHUNK for chunk in chunks)
    flat = [address for chunk in chunks for address in chunk]
    assert sorted(flat) == sorted(numbered(CHUNK * 3) + numbered(CHUNK + 1, 30_000))
    digest = read(site, mlist, {"delivery_modes": ["mime_digests"]})
    assert sorted(a for chunk in digest for a in chunk) == sorted(numbered(50, 10_000))


def test_excluded_members_and_explicit_recipients(site: Site, mlist: IMailingList) -> None:
    add_members(site, LIST_ID, numbered(CHUNK * 2))
    skipped = set(numbered(CHUNK * 2)[::3])
    chunks = list(recipient_chunks(site.lists, mlist, {}, CHUNK, skipped))
    assert {a for chunk in chunks for a in chunk} == set(numbered(CHUNK * 2)) - skipped
    named = {"recipients": ["A@example.com", "a@example.com", *numbered(CHUNK + 2)]}
    chunks = read(site, mlist, named)
    assert [len(chunk) for chunk in chunks] == [CHUNK, 3]
    flat = [address for chunk in chunks for address in chunk]
    assert "A@example.com" in flat and "a@example.com" not in flat  # the first spelling


def test_statements_grow_with_chunks_not_members(site: Site, mlist: IMailingList) -> None:
    add_members(site, LIST_ID, numbered(100))
    with counted(site) as small:
        assert sum(len(chunk) for chunk in read(site, mlist, {})) == 100
    add_members(site, LIST_ID, numbered(1900, 100))
    with counted(site) as large:
        assert sum(len(chunk) for chunk in read(site, mlist, {})) == 2000
    # One statement per chunk read (the last one short or empty), and the same few
    # besides (finding the list), whatever the members.
    besides = small[0] - (100 // CHUNK + 1)
    assert large[0] - (2000 // CHUNK + 1) == besides
    assert 0 <= besides <= 2
