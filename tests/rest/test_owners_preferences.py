"""Domain owners, preferences and member address changes, through mailmanclient."""

from __future__ import annotations

import pytest
from mailmanclient import Client

from .conftest import PASSWORD, USER, Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(rest_server: Server) -> Client:
    return Client(rest_server.url, USER, PASSWORD)


def test_domain_owners_are_users(client: Client, rest_server: Server) -> None:
    domain = client.create_domain("owned.example.org", owner="boss@example.com")
    assert [u.addresses[0].email for u in domain.owners] == ["boss@example.com"]
    existing = client.create_user("deputy@example.com", "pw", "Deputy")
    domain.add_owner("deputy@example.com")
    owners = client.get_domain("owned.example.org").owners
    assert sorted(u.user_id for u in owners) == sorted(
        [client.get_user("boss@example.com").user_id, existing.user_id]
    )
    status, _, _ = rest_server.request(
        "DELETE", "/domains/owned.example.org/owners/boss%40example.com"
    )
    assert status == 204
    assert [u.user_id for u in domain.owners] == [existing.user_id]
    domain.remove_all_owners()
    assert domain.owners == []
    assert rest_server.request("POST", "/domains/owned.example.org/owners", b"owner=x")[0] == 400
    client.delete_domain("owned.example.org")


def test_system_preferences(client: Client, rest_server: Server) -> None:
    assert client.preferences["hide_address"] is True
    _, _, defaults = rest_server.request("GET", "/system/preferences")
    assert {k: v for k, v in defaults.items() if k not in ("self_link", "http_etag")} == {
        "acknowledge_posts": False,
        "delivery_mode": "regular",
        "delivery_status": "enabled",
        "hide_address": True,
        "preferred_language": "en",
        "receive_list_copy": True,
        "receive_own_postings": True,
    }


def test_user_address_and_member_preferences(client: Client, rest_server: Server) -> None:
    mlist = client.create_domain("prefs.example.org").create_list("dev")
    user = client.create_user("pat@example.com", "pw", "Pat")
    _, _, unset = rest_server.request("GET", f"/users/{user.user_id}/preferences")
    assert set(unset) == {"self_link", "http_etag"}
    prefs = user.preferences
    prefs["acknowledge_posts"] = True
    prefs["preferred_language"] = "de"
    prefs.save()
    fresh = client.get_user(user.user_id).preferences
    assert fresh["acknowledge_posts"] is True and fresh["preferred_language"] == "de"
    address = client.get_address("pat@example.com")
    address.preferences["hide_address"] = False
    address.preferences.save()
    assert client.get_address("pat@example.com").preferences["hide_address"] is False
    member = mlist.subscribe("pat@example.com", pre_verified=True, pre_confirmed=True,
                             pre_approved=True)  # fmt: skip
    member.preferences["receive_own_postings"] = False
    member.preferences["delivery_mode"] = "plaintext_digests"
    member.preferences.save()
    assert mlist.get_member("pat@example.com").delivery_mode == "plaintext_digests"
    path = f"/members/{member.member_id}/all/preferences"
    _, _, applied = rest_server.request("GET", path)
    assert applied["receive_own_postings"] is False  # the member's own
    assert applied["hide_address"] is False  # the address's
    assert applied["preferred_language"] == "de"  # the user's
    assert applied["receive_list_copy"] is True  # the site's
    put = rest_server.request("PUT", f"/users/{user.user_id}/preferences", b"hide_address=true")
    assert put[0] == 204
    _, _, after = rest_server.request("GET", f"/users/{user.user_id}/preferences")
    assert "acknowledge_posts" not in after and after["hide_address"] is True
    bad = rest_server.request("PATCH", f"/users/{user.user_id}/preferences", b"hide_address=maybe")
    assert bad[0] == 400
    client.delete_domain("prefs.example.org")


def test_member_address_change_and_preferred_address(client: Client, rest_server: Server) -> None:
    mlist = client.create_domain("move.example.org").create_list("dev")
    member = mlist.subscribe("old@example.com", pre_verified=True, pre_confirmed=True,
                             pre_approved=True)  # fmt: skip
    member.address = "new@example.com"  # type: ignore[assignment]
    member.save()
    _, _, moved = rest_server.request("GET", f"/members/{member.member_id}")
    assert moved["email"] == "new@example.com"
    assert mlist.is_member("new@example.com") and not mlist.is_member("old@example.com")
    user = client.create_user("quinn@example.com", "pw")
    client.get_address("quinn@example.com").verify()
    user.preferred_address = "quinn@example.com"
    assert client.get_user(user.user_id).preferred_address is not None
    user.preferred_address = None
    assert client.get_user(user.user_id).preferred_address is None
    path = f"/users/{user.user_id}/preferred_address"
    assert rest_server.request("DELETE", path)[0] == 404  # nothing left to clear
    client.delete_domain("move.example.org")
