"""The REST API driven the way web front ends drive it: through mailmanclient."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from urllib.error import HTTPError

import pytest
from mailmanclient import Client

from posthorn.queues import Switchboard
from posthorn.site import Site

from .conftest import PASSWORD, USER, Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(rest_server: Server) -> Client:
    return Client(rest_server.url, USER, PASSWORD)


@pytest.fixture(scope="module")
def mlist(client: Client) -> Iterator[object]:
    domain = client.create_domain("client.example.org")
    mlist = domain.create_list("dev")
    yield mlist
    client.delete_domain("client.example.org")


def test_system_versions(client: Client) -> None:
    assert client.system["api_version"] == "3.1"


def test_domains_and_lists(client: Client) -> None:
    domain = client.create_domain("lists.example.net", description="Test")
    assert "lists.example.net" in [d.mail_host for d in client.domains]
    with pytest.raises(HTTPError) as duplicate:
        client.create_domain("lists.example.net")
    assert duplicate.value.code == 400
    announce = domain.create_list("news", style_name="legacy-announce")
    assert client.get_list("news@lists.example.net").list_id == "news.lists.example.net"
    assert client.get_list("news.lists.example.net").fqdn_listname == "news@lists.example.net"
    assert announce.settings["allow_list_posts"] is False
    assert [m.list_id for m in domain.lists] == ["news.lists.example.net"]
    client.delete_domain("lists.example.net")
    with pytest.raises(HTTPError) as gone:
        client.get_list("news@lists.example.net")
    assert gone.value.code == 404


def test_settings_round_trip(client: Client, mlist: object) -> None:
    settings = mlist.settings  # type: ignore[attr-defined]
    assert settings["subscription_policy"] == "confirm"
    settings["description"] = "A list for tests"
    settings["advertised"] = False
    settings["max_message_size"] = 100
    settings["acceptable_aliases"] = ["dev@alias.example.org", "old@alias.example.org"]
    settings.save()
    fresh = client.get_list("dev.client.example.org").settings
    assert fresh["description"] == "A list for tests"
    assert fresh["advertised"] is False
    assert fresh["max_message_size"] == 100
    assert fresh["acceptable_aliases"] == ["dev@alias.example.org", "old@alias.example.org"]
    settings["subscription_policy"] = "sometimes"
    with pytest.raises(HTTPError) as bad:
        settings.save()
    assert bad.value.code == 400


def test_archivers_are_switched_per_list(
    client: Client, mlist: object, rest_server: Server
) -> None:
    archivers = mlist.archivers  # type: ignore[attr-defined]
    assert dict(archivers) == {"mail-archive": True, "prototype": True}
    # mailmanclient saves each change at once with a PATCH.
    archivers["prototype"] = False
    fresh = client.get_list("dev@client.example.org").archivers
    assert dict(fresh) == {"mail-archive": True, "prototype": False}
    fresh["prototype"] = True
    assert dict(client.get_list("dev.client.example.org").archivers)["prototype"] is True
    status, _, body = rest_server.request(
        "PATCH", "/lists/dev.client.example.org/archivers", b"no-such-archiver=false"
    )
    assert status == 400
    assert "no-such-archiver" in body["description"]


def test_subscribe_find_unsubscribe(client: Client, mlist: object) -> None:
    member = mlist.subscribe(  # type: ignore[attr-defined]
        "Anne@Example.com", "Anne", pre_verified=True, pre_confirmed=True, pre_approved=True
    )
    assert member.email == "anne@example.com"
    assert mlist.is_member("anne@example.com")  # type: ignore[attr-defined]
    with pytest.raises(HTTPError) as again:
        mlist.subscribe(
            "anne@example.com", pre_verified=True, pre_confirmed=True, pre_approved=True
        )  # type: ignore[attr-defined]
    assert again.value.code == 409
    member.moderation_action = "hold"
    member.save()
    assert mlist.get_member("anne@example.com").moderation_action == "hold"  # type: ignore[attr-defined]
    found = mlist.find_members("anne@example.com")  # type: ignore[attr-defined]
    assert [m.member_id for m in found] == [member.member_id]
    mlist.unsubscribe("anne@example.com")  # type: ignore[attr-defined]
    assert not mlist.is_member("anne@example.com")  # type: ignore[attr-defined]
    assert len(mlist.find_members("anne@example.com")) == 0  # type: ignore[attr-defined]


def test_pending_subscription_is_accepted(client: Client, mlist: object) -> None:
    pending = mlist.subscribe("bob@example.com")  # type: ignore[attr-defined]
    assert pending["token_owner"] == "subscriber"
    assert [r["email"] for r in mlist.requests] == ["bob@example.com"]  # type: ignore[attr-defined]
    mlist.accept_request(pending["token"])  # type: ignore[attr-defined]
    assert mlist.is_member("bob@example.com")  # type: ignore[attr-defined]
    assert mlist.requests == []  # type: ignore[attr-defined]


def test_owners_and_moderators(client: Client, mlist: object) -> None:
    mlist.add_owner("owner@example.com")  # type: ignore[attr-defined]
    mlist.add_moderator("mod@example.com")  # type: ignore[attr-defined]
    assert [m.email for m in mlist.owners] == ["owner@example.com"]  # type: ignore[attr-defined]
    assert mlist.is_moderator("mod@example.com")  # type: ignore[attr-defined]
    mlist.remove_owner("owner@example.com")  # type: ignore[attr-defined]
    assert mlist.owners == []  # type: ignore[attr-defined]


def test_users_and_addresses(client: Client) -> None:
    user = client.create_user("carol@example.com", "secret", "Carol")
    assert client.get_user("carol@example.com").user_id == user.user_id
    assert client.get_user(user.user_id).display_name == "Carol"
    user.add_address("carol@work.example.com")
    address = client.get_address("carol@work.example.com")
    assert address.verified_on is None
    address.verify()
    assert client.get_address("carol@work.example.com").verified_on is not None
    user.preferred_address = "carol@work.example.com"
    assert client.get_user(user.user_id).preferred_address.email == "carol@work.example.com"
    user.display_name = "Carol C."
    user.save()
    assert client.get_user(user.user_id).display_name == "Carol C."
    emails = sorted(a.email for a in client.get_user(user.user_id).addresses)
    assert emails == ["carol@example.com", "carol@work.example.com"]
    user.delete()
    with pytest.raises(HTTPError) as gone:
        client.get_user(user.user_id)
    assert gone.value.code == 404


def _held(site: Site, list_id: str, subject: str) -> int:
    msg = EmailMessage()
    msg["From"] = "stranger@example.com"
    msg["To"] = "dev@client.example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@example.com>"
    msg.set_content("Hello\n")
    return site.messages.hold(list_id, msg, "not a member", "stranger@example.com", subject)


def test_moderate_held_messages(
    client: Client, mlist: object, rest_site: Site, rest_server: Server
) -> None:
    first = _held(rest_site, "dev.client.example.org", "first post")
    second = _held(rest_site, "dev.client.example.org", "second post")
    assert mlist.get_held_count() == 2  # type: ignore[attr-defined]
    held = mlist.get_held_message(first)  # type: ignore[attr-defined]
    assert held.subject == "first post"
    mlist.defer_message(first)  # type: ignore[attr-defined]
    mlist.accept_message(first)  # type: ignore[attr-defined]
    mlist.discard_message(second)  # type: ignore[attr-defined]
    assert mlist.held == []  # type: ignore[attr-defined]
    pipeline = Switchboard(rest_site.config.path("queue_dir") / "pipeline")
    files = pipeline.get_files()
    assert len(files) == 1
    msg, msgdata = pipeline.dequeue(files[0])
    assert msg["Subject"] == "first post"
    assert msgdata["approved"] is True
    assert msgdata["list_id"] == "dev.client.example.org"
