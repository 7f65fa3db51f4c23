"""The parsed-message class answers every parameter question as ``Message`` does."""

from __future__ import annotations

import email
import sys
from email.message import Message
from email.policy import compat32
from pathlib import Path

import pytest

from posthorn.messages.folding import CACHED_COMPAT32
from posthorn.messages.parsed import PostMessage

SAMPLES = sorted((Path(sys.prefix) / "share" / "bounce-samples").glob("*.txt"))
MADE_UP = [
    b'Content-Type: text/plain; charset="utf-8"; format=flowed; delsp=yes\r\n\r\nx\r\n',
    b"Content-Type: text/plain; charset*=us-ascii'en'utf-8; name*0=a; name*1=b\r\n\r\nx\r\n",
    b'Content-Type: TEXT/Plain ; Charset = "ISO-8859-1" ; ; bare\r\n'
    b'Content-Disposition: attachment; filename="a \\"b\\".txt"\r\n\r\nx\r\n',
    b"Content-Type: text/plain; charset=caf\xc3\xa9\r\n\r\nx\r\n",
    b"Subject: no type\r\n\r\nx\r\n",
]


def answers(msg: Message) -> list[object]:
    found: list[object] = []
    for part in msg.walk():
        for header in ("content-type", "content-disposition"):
            found.append(part.get_params(header=header))
            found.append(part.get_params(header=header, unquote=False))
        found += [part.get_content_charset(), part.get_filename(), part.get_boundary()]
        found += [part.get_param("charset"), part.get_param("name"), part.get_charsets()]
    return found


@pytest.mark.parametrize("data", [p.read_bytes() for p in SAMPLES] + MADE_UP)
def test_the_same_answers_as_message(data: bytes) -> None:
    expected = answers(email.message_from_bytes(data, policy=compat32))
    msg = email.message_from_bytes(data, policy=CACHED_COMPAT32)
    assert isinstance(msg, PostMessage)
    # Asked twice: the second time from what the first remembered.
    assert answers(msg) == expected
    assert answers(msg) == expected


def test_a_changed_field_is_read_anew_and_an_answer_is_the_callers_own() -> None:
    msg = email.message_from_bytes(MADE_UP[0], policy=CACHED_COMPAT32)
    params = msg.get_params()
    assert params is not None
    params.append(("x", "y"))
    assert ("x", "y") not in (msg.get_params() or [])
    msg.set_param("charset", "us-ascii")
    assert msg.get_content_charset() == "us-ascii"
    assert msg["content-type"] == 'text/plain; charset="us-ascii"; format="flowed"; delsp="yes"'
