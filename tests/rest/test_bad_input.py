"""Bad input over raw HTTP: each gets the right status and a JSON body, and nothing else.

SQL-looking and path-looking strings, in any path segment or field, must only fail
validation (404/400); the server must keep serving after every one of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest

from .conftest import MAX_BODY, USER, Server

pytestmark = pytest.mark.slow

NASTY = ["x'; DROP TABLE members;--", "../../etc/passwd", "..", "%00", "a\u202eb"]


@pytest.fixture(scope="module")
def server(rest_server: Server) -> Iterator[Server]:
    status, _, _ = rest_server.request("POST", "/domains", b"mail_host=bad.example.org")
    assert status == 201
    status, _, _ = rest_server.request("POST", "/lists", b"fqdn_listname=l@bad.example.org")
    assert status == 201
    yield rest_server
    # Still serving, and nothing was dropped: the list and its domain are intact.
    status, _, body = rest_server.request("GET", "/lists/l.bad.example.org")
    assert status == 200 and body["fqdn_listname"] == "l@bad.example.org"


def form(data: dict[str, object]) -> bytes:
    return urlencode(data, doseq=True).encode()


def assert_error(result: tuple[int, dict[str, str], object], status: int) -> None:
    code, headers, body = result
    assert code == status, body
    assert headers["content-type"].startswith("application/json")
    assert isinstance(body, dict) and "title" in body


def test_wrong_credentials(server: Server) -> None:
    result = server.request("GET", "/lists", auth=(USER, "wrong"))
    assert_error(result, 401)
    assert result[1]["www-authenticate"].startswith('Basic realm="mailman3-rest"')
    assert_error(server.request("GET", "/lists", auth=("", "")), 401)


def test_malformed_json(server: Server) -> None:
    body = b'{"mail_host": "x.example.org"'
    assert_error(server.request("POST", "/domains", body, content_type="application/json"), 400)
    body = b'["not", "an", "object"]'
    assert_error(server.request("POST", "/domains", body, content_type="application/json"), 400)


def test_json_bodies_work(server: Server) -> None:
    body = json.dumps({"advertised": False, "max_num_recipients": 5}).encode()
    path = "/lists/l.bad.example.org/config"
    status, _, _ = server.request("PATCH", path, body, content_type="application/json")
    assert status == 204
    _, _, config = server.request("GET", path)
    assert config["advertised"] is False and config["max_num_recipients"] == 5


def test_unknown_fields(server: Server) -> None:
    result = server.request("POST", "/domains", form({"mail_host": "y.org", "colour": "red"}))
    assert_error(result, 400)
    assert "Unexpected parameters: colour" in result[2]["description"]  # type: ignore[index]
    path = "/lists/l.bad.example.org/config"
    assert_error(server.request("PATCH", path, form({"no_such_setting": "1"})), 400)
    assert_error(server.request("PATCH", path, form({"list_id": "other"})), 400)


@pytest.mark.parametrize(
    "changes",
    [
        {"advertised": "maybe"},
        {"max_message_size": "big"},
        {"max_message_size": "-1"},
        {"subscription_policy": "whenever"},
        {"bounce_info_stale_after": "soon"},
    ],
)
def test_wrong_types_in_forms(server: Server, changes: dict[str, str]) -> None:
    assert_error(server.request("PATCH", "/lists/l.bad.example.org/config", form(changes)), 400)


@pytest.mark.parametrize(
    "changes", [{"advertised": "yes please"}, {"max_message_size": "10"}, {"description": 5}]
)
def test_wrong_types_in_json(server: Server, changes: dict[str, object]) -> None:
    body = json.dumps(changes).encode()
    result = server.request(
        "PATCH", "/lists/l.bad.example.org/config", body, content_type="application/json"
    )
    assert_error(result, 400)


def test_invalid_address(server: Server) -> None:
    data = {"list_id": "l.bad.example.org", "subscriber": "not an address@", "pre_verified": 1}
    assert_error(server.request("POST", "/members", form(data)), 400)
    assert_error(server.request("POST", "/users", form({"email": "a@@b"})), 400)


def test_missing_list(server: Server) -> None:
    assert_error(server.request("GET", "/lists/nope.bad.example.org"), 404)
    data = {"list_id": "nope.bad.example.org", "subscriber": "a@example.com"}
    assert_error(server.request("POST", "/members", form(data)), 400)


def test_paging_errors(server: Server) -> None:
    assert_error(server.request("GET", "/lists?count=x"), 400)
    assert_error(server.request("GET", "/lists?count=1&page=0"), 400)
    assert_error(server.request("GET", "/lists?page=2"), 400)
    status, _, body = server.request("GET", "/lists?count=1&page=99")
    assert status == 200 and "entries" not in body


def test_wrong_method_and_unknown_path(server: Server) -> None:
    assert_error(server.request("PUT", "/system/versions", b""), 405)
    assert_error(server.request("GET", "/no/such/thing"), 404)


def test_body_too_large(server: Server) -> None:
    big = form({"description": "x" * (MAX_BODY + 1)})
    assert_error(server.request("PATCH", "/lists/l.bad.example.org/config", big), 413)


@pytest.mark.parametrize("nasty", NASTY)
def test_nasty_path_segments(server: Server, nasty: str) -> None:
    segment = quote(nasty, safe="")
    for path in (
        f"/lists/{segment}",
        f"/lists/{segment}/config",
        f"/lists/l.bad.example.org/member/{segment}",
        f"/lists/l.bad.example.org/held/{segment}",
        f"/lists/l.bad.example.org/requests/{segment}",
        f"/users/{segment}",
        f"/addresses/{segment}",
        f"/members/{segment}",
        f"/domains/{segment}",
    ):
        status, _, body = server.request("GET", path)
        assert status in (400, 404), path
        assert "title" in body


@pytest.mark.parametrize("nasty", NASTY)
def test_nasty_fields(server: Server, nasty: str) -> None:
    for path, data in (
        ("/domains", {"mail_host": nasty}),
        ("/lists", {"fqdn_listname": f"{nasty}@bad.example.org"}),
        ("/members", {"list_id": nasty, "subscriber": "a@example.com"}),
        ("/members", {"list_id": "l.bad.example.org", "subscriber": nasty}),
        ("/users", {"email": nasty}),
    ):
        assert_error(server.request("POST", path, form(data)), 400)


def test_an_unsubscription_already_pending_is_a_conflict(server: Server) -> None:
    status, _, _ = server.request("POST", "/domains", b"mail_host=twice.example.org")
    assert status == 201
    status, _, _ = server.request("POST", "/lists", b"fqdn_listname=t@twice.example.org")
    assert status == 201
    subscribe = {"list_id": "t.twice.example.org", "subscriber": "anne@twice.example.org",
                 "pre_verified": True, "pre_confirmed": True, "pre_approved": True}  # fmt: skip
    status, headers, _ = server.request("POST", "/members", form(subscribe))
    assert status == 201
    member = "/members/" + headers["location"].rsplit("/", 1)[1]
    status, _, _ = server.request(
        "PATCH", "/lists/t.twice.example.org/config", b"unsubscription_policy=confirm"
    )
    assert status == 204
    status, _, body = server.request("DELETE", member, b"pre_confirmed=false")
    assert status == 202 and body["token_owner"] == "subscriber"
    # Nothing was removed, so a second request must not answer 204 as if it had been.
    assert_error(server.request("DELETE", member, b"pre_confirmed=false"), 409)
    status, _, _ = server.request("GET", member)
    assert status == 200


def test_the_news_gateway_settings_are_stored_and_bad_values_refused(server: Server) -> None:
    path = "/lists/l.bad.example.org/config"
    assert server.request("PATCH", path, form({"gateway_to_news": "true"}))[0] == 204
    result = server.request("PATCH", f"{path}/linked_newsgroup", form({"linked_newsgroup": "a.b"}))
    assert result[0] == 204
    config = server.request("GET", path)[2]
    assert config["gateway_to_news"] is True and config["linked_newsgroup"] == "a.b"  # type: ignore[index]
    result = server.request("PATCH", path, form({"newsgroup_moderation": "sometimes"}))
    assert_error(result, 400)
    assert "newsgroup_moderation" in result[2]["description"]  # type: ignore[index]
    assert server.request("PATCH", path, form({"gateway_to_news": "false"}))[0] == 204
