"""Language codes over REST: an unknown one is a 400 naming the field, a known one is stored."""

from __future__ import annotations

import json

import pytest

from posthorn.site import Site

from .conftest import Server

pytestmark = pytest.mark.slow


def _patch(server: Server, path: str, body: dict[str, object]) -> tuple[int, object]:
    data = json.dumps(body).encode()
    status, _, answer = server.request("PATCH", path, data, content_type="application/json")
    return status, answer


def test_rest_refuses_an_unknown_language_naming_the_field(
    rest_server: Server, rest_site: Site
) -> None:
    rest_site.lists.create("lang@example.org")
    user = rest_site.users.create_user("anne@example.org")
    member = rest_site.lists.subscribe("lang@example.org", "anne@example.org")
    paths = [
        "/lists/lang.example.org/config",
        f"/users/{user.user_id}/preferences",
        "/addresses/anne@example.org/preferences",
        f"/members/{member.member_id}/preferences",
    ]
    for path in paths:
        status, answer = _patch(rest_server, path, {"preferred_language": "xx"})
        assert status == 400, (path, answer)
        assert isinstance(answer, dict)
        assert 'Invalid Parameter "preferred_language"' in answer["description"]
        assert "'xx' is not a language of this site" in answer["description"]
        assert _patch(rest_server, path, {"preferred_language": "de"})[0] == 204, path
    status, _, answer = rest_server.request(
        "PATCH", "/lists/lang.example.org/config/preferred_language", b"preferred_language=xx"
    )
    assert status == 400 and "preferred_language" in answer["description"]
    assert rest_site.lists.require("lang.example.org").preferred_language == "de"
    assert rest_site.lists.member_preferences(member.member_id)["preferred_language"] == "de"
