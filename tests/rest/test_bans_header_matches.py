"""Bans and header matches over REST, driven through mailmanclient as Postorius does."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.error import HTTPError
from urllib.parse import quote_plus

import pytest
from mailmanclient import Client

from .conftest import PASSWORD, USER, Server

pytestmark = pytest.mark.slow

DOMAIN = "bans.example.org"


@pytest.fixture(scope="module")
def client(rest_server: Server) -> Client:
    return Client(rest_server.url, USER, PASSWORD)


@pytest.fixture(scope="module")
def mlist(client: Client) -> Iterator[object]:
    domain = client.create_domain(DOMAIN)
    yield domain.create_list("dev")
    client.delete_domain(DOMAIN)


def test_list_bans_add_check_page_and_remove(client: Client, mlist: object) -> None:
    bans = mlist.bans  # type: ignore[attr-defined]
    assert len(bans) == 0
    ban = bans.add("Spammer@Example.net")
    assert ban.email == "spammer@example.net" and ban.list_id == "dev.bans.example.org"
    bans.add(r"^.*@junk\.example$")
    fresh = client.get_list(f"dev@{DOMAIN}").bans
    assert sorted(b.email for b in fresh) == [r"^.*@junk\.example$", "spammer@example.net"]
    # Checking an address asks the server, which also answers for a pattern's match.
    unread = client.get_list(f"dev@{DOMAIN}").bans
    assert "spammer@example.net" in unread and "anyone@junk.example" in unread
    assert "friend@example.net" not in unread
    assert r"^.*@junk\.example$" in client.get_list(f"dev@{DOMAIN}").bans
    assert "spammer@example.net" not in client.bans
    with pytest.raises(HTTPError) as duplicate:
        bans.add("spammer@example.net")
    assert duplicate.value.code == 400
    with pytest.raises(HTTPError) as bad:
        bans.add("^(unclosed")
    assert bad.value.code == 400
    page = mlist.get_bans_page(count=1, page=2)  # type: ignore[attr-defined]
    assert page.total_size == 2 and [b.email for b in page] == ["spammer@example.net"]
    fresh.remove(r"^.*@junk\.example$")
    fresh.remove("spammer@example.net")
    assert len(client.get_list(f"dev@{DOMAIN}").bans) == 0
    with pytest.raises(ValueError):
        client.get_list(f"dev@{DOMAIN}").bans.remove("spammer@example.net")


def test_site_bans_hold_on_every_list(client: Client, mlist: object, rest_server: Server) -> None:
    client.bans.add(r"^.*@evil\.example$")
    assert "x@evil.example" in client.get_list(f"dev@{DOMAIN}").bans
    status, _, body = rest_server.request("GET", "/bans")
    assert status == 200 and body["entries"][0]["email"] == r"^.*@evil\.example$"
    assert "list_id" not in body["entries"][0]
    # A banned address cannot subscribe: 400, nothing pending.
    with pytest.raises(HTTPError) as refused:
        mlist.subscribe("x@evil.example", pre_verified=True, pre_confirmed=True)  # type: ignore[attr-defined]
    assert refused.value.code == 400
    status, _, _ = rest_server.request("DELETE", "/bans/" + quote_plus(r"^.*@evil\.example$"))
    assert status == 204
    assert len(client.bans) == 0


def test_header_matches_add_change_reorder_find_delete(client: Client, mlist: object) -> None:
    matches = mlist.header_matches  # type: ignore[attr-defined]
    matches.add("X-Spam-Flag", "^yes", "discard", tag="spam")
    matches.add("X-Spam-Level", r"\*{5}")
    matches.add("Subject", "viagra", "reject", tag="spam")
    got = [(m.position, m.header, m.pattern, m.action, m.tag) for m in mlist.header_matches]  # type: ignore[attr-defined]
    assert got == [
        (0, "x-spam-flag", "^yes", "discard", "spam"),
        (1, "x-spam-level", r"\*{5}", None, None),
        (2, "subject", "viagra", "reject", "spam"),
    ]
    with pytest.raises(HTTPError) as duplicate:
        matches.add("x-spam-flag", "^yes")
    assert duplicate.value.code == 400
    last = list(mlist.header_matches)[2]  # type: ignore[attr-defined]
    last.position = 0
    last.action = "hold"
    last.save()
    assert [m.header for m in mlist.header_matches] == [  # type: ignore[attr-defined]
        "subject", "x-spam-flag", "x-spam-level",
    ]  # fmt: skip
    assert next(iter(mlist.header_matches)).action == "hold"  # type: ignore[attr-defined]
    assert [m.header for m in matches.find(tag="spam")] == ["subject", "x-spam-flag"]
    assert matches.find(header="nothing-like-it") == []
    del mlist.header_matches[1]  # type: ignore[attr-defined]
    assert [(m.position, m.header) for m in mlist.header_matches] == [  # type: ignore[attr-defined]
        (0, "subject"), (1, "x-spam-level"),
    ]  # fmt: skip
    # Postorius saves its form by clearing every match and adding them again.
    mlist.header_matches.clear()  # type: ignore[attr-defined]
    assert len(mlist.header_matches) == 0  # type: ignore[attr-defined]


def test_header_match_bad_input(rest_server: Server, mlist: object) -> None:
    base = "/lists/dev.bans.example.org/header-matches"
    status, _, body = rest_server.request("POST", base, b"header=X-A&pattern=%28&action=hold")
    assert status == 400 and "pattern" in body["description"]
    status, _, _ = rest_server.request("POST", base, b"header=X-A&pattern=a&action=bounce")
    assert status == 400
    status, _, _ = rest_server.request("GET", base + "/7")
    assert status == 404
    status, headers, _ = rest_server.request("POST", base, b"header=X-A&pattern=a&action=")
    assert status == 201 and headers["location"].endswith("/header-matches/0")
    status, _, _ = rest_server.request("PATCH", base + "/0", b"position=5")
    assert status == 400
    status, _, body = rest_server.request("GET", base + "/0")
    assert status == 200 and "action" not in body and body["header"] == "x-a"
    status, _, _ = rest_server.request("DELETE", base)
    assert status == 204
