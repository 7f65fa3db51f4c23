"""Members switch between regular and digest delivery through REST (PATCH members/{id})."""

from __future__ import annotations

import urllib.parse

import pytest

from posthorn.site import Site
from tests.rest.conftest import Server, rest_server, rest_site

__all__ = ["rest_server", "rest_site"]

pytestmark = pytest.mark.slow


def test_patch_delivery_mode(rest_server: Server, rest_site: Site) -> None:
    rest_site.databases.upgrade()
    rest_site.lists.create("digest@example.org")
    member = rest_site.lists.subscribe("digest@example.org", "reader@example.com")
    for mode in ("plaintext_digests", "mime_digests", "regular"):
        body = urllib.parse.urlencode({"delivery_mode": mode}).encode()
        status, _, _ = rest_server.request("PATCH", f"/members/{member.member_id}", body)
        assert status == 204
        status, _, found = rest_server.request("GET", f"/members/{member.member_id}")
        assert status == 200 and found["delivery_mode"] == mode
    body = urllib.parse.urlencode({"delivery_mode": "weekly"}).encode()
    status, _, _ = rest_server.request("PATCH", f"/members/{member.member_id}", body)
    assert status == 400
