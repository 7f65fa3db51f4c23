"""The resources behind Postorius's system, settings and user pages, through mailmanclient.

Pipelines and chains (the "Alter messages" tab), queues (the system page), template
URIs, single settings, preferences that read as unset until set, and a user for every
address that appears.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.error import HTTPError

import pytest
from mailmanclient import Client

from posthorn.queues import Switchboard
from tests.waiting import wait_for

from .conftest import PASSWORD, USER, Server

pytestmark = pytest.mark.slow

DOMAIN = "pages.example.org"
LIST_ID = f"dev.{DOMAIN}"


@pytest.fixture(scope="module")
def client(rest_server: Server) -> Client:
    return Client(rest_server.url, USER, PASSWORD)


@pytest.fixture(scope="module")
def mlist(client: Client) -> Iterator[object]:
    domain = client.create_domain(DOMAIN)
    yield domain.create_list("dev")
    client.delete_domain(DOMAIN)


def test_pipelines_and_chains(client: Client, rest_server: Server) -> None:
    pipelines = client.pipelines["pipelines"]
    # The names lists carry by default (Mailman's) are among the choices.
    assert {"default-posting-pipeline", "default-owner-pipeline", "posting"} <= set(pipelines)
    assert pipelines == sorted(pipelines)
    chains = client.chains["chains"]
    assert {"accept", "hold", "reject", "discard", "default-posting-chain"} <= set(chains)
    _, _, body = rest_server.request("GET", "/system/chains")
    assert body["descriptions"]["hold"]


def test_config_attribute_read_and_write(
    client: Client, mlist: object, rest_server: Server
) -> None:
    path = f"/lists/{LIST_ID}/config/posting_pipeline"
    status, _, body = rest_server.request("GET", path)
    assert status == 200 and body["posting_pipeline"] == "default-posting-pipeline"
    status, _, _ = rest_server.request("PATCH", path, b"posting_pipeline=posting")
    assert status == 204
    assert client.get_list(LIST_ID).settings["posting_pipeline"] == "posting"
    status, _, body = rest_server.request("PUT", path, b"posting_pipeline=no-such-pipeline")
    assert status == 400 and "no-such-pipeline" in body["description"]
    status, _, _ = rest_server.request("PUT", f"/lists/{LIST_ID}/config/max_num_recipients",
                                       b"max_num_recipients=3")  # fmt: skip
    assert status == 204 and client.get_list(LIST_ID).settings["max_num_recipients"] == 3
    status, _, _ = rest_server.request("PATCH", f"/lists/{LIST_ID}/config/post_id", b"post_id=9")
    assert status == 400
    status, _, _ = rest_server.request("PATCH", f"/lists/{LIST_ID}/config/colour", b"colour=9")
    assert status == 404


def test_queues_list_inject_and_delete(client: Client, mlist: object, rest_server: Server) -> None:
    queues = client.queues
    # Named as Mailman names them, so clients written for Mailman find them.
    assert {"in", "pipeline", "out", "bounces", "shunt", "bad"} <= set(queues)
    assert all(len(queue.files) == 0 for queue in queues.values())
    text = f"From: anne@example.org\nTo: dev@{DOMAIN}\nSubject: injected\n\nHello.\n"
    queues["pipeline"].inject(LIST_ID, text)
    assert len(client.queues["pipeline"].files) == 1
    (filebase,) = client.queues["pipeline"].files
    board = Switchboard(rest_server.var_dir / "queue" / "pipeline")
    msg, msgdata = board.dequeue(board.get_files()[0])
    assert msg["Subject"] == "injected" and msgdata["list_id"] == LIST_ID
    board.finish(filebase)
    # Our own names reach the same queues.
    status, _, body = rest_server.request("GET", "/queues/outgoing")
    assert status == 200 and body["name"] == "out" and body["directory"].endswith("outgoing")
    status, headers, _ = rest_server.request(
        "POST", "/queues/outgoing", f"list_id={LIST_ID}&text=Subject:%20x%0A%0Ax".encode()
    )
    assert status == 201
    status, _, _ = rest_server.request(
        "DELETE", "/queues/outgoing/" + headers["location"].split("/")[-1]
    )
    assert status == 204 and client.queues["out"].files == []
    status, _, _ = rest_server.request("POST", "/queues/pipeline", b"list_id=nope.example&text=x")
    assert status == 400
    assert rest_server.request("GET", "/queues/nothing")[0] == 404


def test_a_post_injected_into_in_goes_through_the_rules(client: Client, mlist: object) -> None:
    text = f"From: outsider@example.net\nTo: dev@{DOMAIN}\nSubject: via REST\n\nHi.\n"
    client.queues["in"].inject(LIST_ID, text)
    # The incoming runner holds the non-member's post and records the poster.
    wait_for(lambda: client.get_list(LIST_ID).get_held_count() == 1, "the held post", 15)
    assert [m.email for m in client.get_list(LIST_ID).nonmembers] == ["outsider@example.net"]
    assert client.get_user("outsider@example.net").user_id


def test_template_uris_at_each_level(client: Client, mlist: object, rest_server: Server) -> None:
    welcome = "list:user:notice:welcome"
    mlist.set_template(welcome, "http://127.0.0.1:9/welcome.txt", "user", "secret")  # type: ignore[attr-defined]
    (template,) = mlist.templates  # type: ignore[attr-defined]
    assert (template.name, template.uri, template.username) == (
        welcome, "http://127.0.0.1:9/welcome.txt", "user",
    )  # fmt: skip
    client.get_domain(DOMAIN).set_template("domain:admin:notice:new-list", "http://h/n.txt")
    client.set_template("list:member:regular:footer", "http://h/footer.txt")
    assert [t.name for t in client.get_domain(DOMAIN).templates] == ["domain:admin:notice:new-list"]
    assert [t.name for t in client.templates] == ["list:member:regular:footer"]
    status, _, body = rest_server.request("GET", f"/lists/{LIST_ID}/uris/{welcome}")
    assert status == 200 and body["uri"] == "http://127.0.0.1:9/welcome.txt"
    # A list cannot hold a domain's template; half a credential is refused.
    status, _, _ = rest_server.request(
        "PATCH", f"/lists/{LIST_ID}/uris", b"domain:admin:notice:new-list=http://h/x"
    )
    assert status == 400
    status, _, _ = rest_server.request(
        "PATCH", "/uris", b"list:user:notice:hold=http://h&username=u"
    )
    assert status == 400
    # An empty URI removes one; DELETE on the collection removes them all.
    status, _, _ = rest_server.request("PATCH", f"/lists/{LIST_ID}/uris", f"{welcome}=".encode())
    assert status == 204 and list(client.get_list(LIST_ID).templates) == []
    assert rest_server.request("DELETE", "/uris")[0] == 204
    assert list(client.templates) == []


def test_unset_preferences_read_as_unset(
    client: Client, mlist: object, rest_server: Server
) -> None:
    member = mlist.subscribe(  # type: ignore[attr-defined]
        "pref@example.com", pre_verified=True, pre_confirmed=True, pre_approved=True
    )
    for path in (
        f"/members/{member.member_id}/preferences",
        "/addresses/pref@example.com/preferences",
    ):
        status, _, body = rest_server.request("GET", path)
        assert status == 200 and set(body) == {"self_link", "http_etag"}, path
    assert member.preferences["delivery_status"] is None
    member.preferences["delivery_status"] = "by_user"
    member.preferences["acknowledge_posts"] = True
    member.preferences.save()
    prefs = client.get_member(LIST_ID, "pref@example.com").preferences
    assert (prefs["delivery_status"], prefs["acknowledge_posts"]) == ("by_user", True)
    prefs.delete()
    status, _, body = rest_server.request("GET", f"/members/{member.member_id}/preferences")
    assert set(body) == {"self_link", "http_etag"}


def test_every_subscribed_address_has_a_user(client: Client, mlist: object) -> None:
    member = mlist.subscribe("newcomer@example.com", "New Comer")  # type: ignore[attr-defined]
    assert "token" in member  # waiting for confirmation, yet already a user
    user = client.get_user("newcomer@example.com")
    assert [a.email for a in user.addresses] == ["newcomer@example.com"]
    mlist.add_owner("boss@example.com")  # type: ignore[attr-defined]
    (owner,) = [m for m in client.get_list(LIST_ID).owners if m.email == "boss@example.com"]
    assert client.get_user("boss@example.com").user_id == owner.user.user_id
    with pytest.raises(HTTPError) as missing:
        client.get_user("never-seen@example.com")
    assert missing.value.code == 404
