"""CR/LF in text bound for a header: refused in settings, neutralised in incoming mail.

Every writer of list settings (REST, the command line, ``check_settings`` for importers)
refuses control characters in the settings that end up in headers, naming the field;
body texts keep their line breaks, stored with LF.  An incoming Subject whose encoded
words decode to CR/LF is delivered with them as spaces: one Subject line, no header
smuggled in, nothing shunted.
"""

from __future__ import annotations

import email

import pytest

from posthorn.errors import InvalidSettingError
from posthorn.messages.oneline import decoded_header
from posthorn.model.settings import check_settings
from posthorn.site import Site
from tests.sites import open_site, run_cli
from tests.smtpsink import WAIT_DEADLINE

from .conftest import LIST, MEMBER, POSTER, Running

pytestmark = pytest.mark.slow

ONE_LINE = ["subject_prefix", "display_name", "description", "reply_to_address"]
INJECTED = "[x]\r\nBcc: victim@example.net"


@pytest.mark.parametrize("field", ONE_LINE)
def test_rest_refuses_a_line_break_naming_the_field(running: Running, field: str) -> None:
    status, body = running.rest("PATCH", "/lists/dev.example.org/config", {field: INJECTED})
    assert status == 400, body
    assert body["title"].startswith("400")
    assert f"{field} must be one line" in body["description"]
    with open_site(running.site_file) as site:
        assert getattr(site.lists.require(LIST), field) != INJECTED


def test_rest_stores_body_texts_with_lf(running: Running) -> None:
    footer = "-- \r\nThe $display_name list\rwith a footer"
    status, body = running.rest("PATCH", "/lists/dev.example.org/config", {"footer_text": footer})
    assert status == 204, body
    with open_site(running.site_file) as site:
        assert site.lists.require(LIST).footer_text == "-- \nThe $display_name list\nwith a footer"


def test_cli_refuses_a_line_break(running: Running) -> None:
    code, output = run_cli(running.site_file, "settings", LIST, "-s", f"display_name={INJECTED}")
    assert code == 1
    assert "display_name must be one line: it cannot contain control characters (CR)" in output


def test_importers_share_the_check() -> None:
    with pytest.raises(InvalidSettingError) as refused:
        check_settings({"subject_prefix": "[a]\n"})
    assert refused.value.name == "subject_prefix"
    with pytest.raises(InvalidSettingError):
        check_settings({"acceptable_aliases": ["a@example.org\r\nX: y"]})
    assert check_settings({"header_text": "a\r\nb"}) == {"header_text": "a\nb"}
    with pytest.raises(InvalidSettingError, match="display_name cannot hold a word longer"):
        check_settings({"display_name": "D" * 501})


def test_encoded_line_break_in_subject_is_delivered(running: Running) -> None:
    subject = "=?utf-8?q?Lunch=0D=0ABcc:_victim@example.net=0D=0A?= =?utf-8?q?_today?="
    data = (
        f"From: {POSTER}\r\nTo: {LIST}\r\nSubject: {subject}\r\n"
        "Message-ID: <encoded-crlf@example.com>\r\n\r\nSee you.\r\n"
    ).encode()
    assert running.post(data) == {}
    found = running.sink.wait(MEMBER, "Lunch", WAIT_DEADLINE)
    shown = " ".join(decoded_header(found["subject"]).split())
    assert shown == "[Dev] Lunch Bcc: victim@example.net today"
    with running.sink.lock:
        (raw,) = [c for _, r, c in running.sink.received if MEMBER in r and b"Lunch" in c]
    delivered = email.message_from_bytes(raw)
    assert delivered.get_all("bcc") is None and len(delivered.get_all("subject", [])) == 1
    assert b"\r\nBcc:" not in raw.split(b"\r\n\r\n")[0]
    assert running.queue("shunt") == []
    with open_site(running.site_file) as site:
        _settings_unchanged(site)


def _settings_unchanged(site: Site) -> None:
    mlist = site.lists.require(LIST)
    assert mlist.subject_prefix == "[Dev] " and mlist.display_name == "Dev"
