"""``PATCH domains/{host}``: Postorius's domain page saves a domain this way."""

from __future__ import annotations

from urllib.error import HTTPError

import pytest
from mailmanclient import Client

from tests.rest.conftest import PASSWORD, USER, Server


def test_a_domain_saved_as_postorius_saves_it(rest_server: Server) -> None:
    client = Client(rest_server.url, USER, PASSWORD)
    client.create_domain("patch.example.org", description="Before")
    domain = client.get_domain("patch.example.org")
    # Postorius sets both fields from its form, the alias left empty.
    domain.description = "After"
    domain.alias_domain = ""
    domain.save()
    again = client.get_domain("patch.example.org")
    assert (again.description, again.alias_domain) == ("After", None)
    again.alias_domain = "patch.example.internal"
    again.save()
    assert client.get_domain("patch.example.org").alias_domain == "patch.example.internal"
    path = "/domains/patch.example.org"
    status, _, body = rest_server.request("PATCH", path, b"alias_domain=x y")
    assert (status, body["title"]) == (400, "400 Bad Request")
    assert "alias_domain" in body["description"]
    status, _, body = rest_server.request("PATCH", path, b"owner=a@b.c")
    assert status == 400 and "Unexpected parameters" in body["description"]
    with pytest.raises(HTTPError) as missing:
        client.get_domain("nowhere.example.org")
    assert missing.value.code == 404
    client.delete_domain("patch.example.org")
