"""set_text writes what Message.set_payload writes with a charset, byte for byte."""

from __future__ import annotations

import copy
from email.charset import BASE64, QP, Charset
from email.message import Message
from email.policy import compat32, default

import pytest

from posthorn.messages.folding import CACHED_COMPAT32
from posthorn.messages.settext import set_text
from posthorn.queues.parsing import message_parser

HEADS = [
    'Content-Type: text/plain; charset="us-ascii"\nContent-Transfer-Encoding: 7bit\n',
    "Content-Type: text/plain; charset=UTF-8; format=flowed; delsp=yes\n",
    "Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n",
    "Content-Type: TEXT/PLAIN;\n charset=iso-8859-1\n",
    "Content-Type: text/plain; format=flowed\nContent-Type: text/html; charset=x\n",
    "Content-Type: text/plain; charset*=utf-8''%75tf-8; name=\"a b\"\n",
    'Content-Type: text/plain; charset="utf-8"\n',
    "Content-Transfer-Encoding: quoted-printable\n",
    "",
]
CHARSETS = ["us-ascii", "utf-8", "iso-8859-1", "latin_1", "euc-jp", "koi8-r"]
ENCODINGS = [None, QP, BASE64]
TEXTS = ["plain words\n", "caf\u00e9 cr\u00e8me\n", "", "x" * 1200 + "\n"]


def _parsed(head: str, with_version: bool) -> Message:
    version = "MIME-Version: 1.0\n" if with_version else ""
    raw = f"From: a@example.net\nSubject: s\n{version}{head}X-After: 1\n\nbody\n"
    parser = message_parser(CACHED_COMPAT32)
    parser.feed(raw.encode("ascii"))
    return parser.close()


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("with_version", [True, False])
@pytest.mark.parametrize("name", CHARSETS)
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("text", TEXTS)
def test_same_as_set_payload(
    head: str, with_version: bool, name: str, encoding: str | None, text: str
) -> None:
    try:
        text.encode(Charset(name).output_charset or name)
    except UnicodeEncodeError:
        text = text.encode("ascii", "replace").decode("ascii")
    fast, slow = _parsed(head, with_version), _parsed(head, with_version)
    for msg in (fast, slow):
        del msg["content-transfer-encoding"]
    fast_charset, slow_charset = Charset(name), Charset(name)
    fast_charset.body_encoding = slow_charset.body_encoding = encoding  # type: ignore[assignment]
    set_text(fast, text, fast_charset)
    slow.set_payload(text, slow_charset)
    assert fast.items() == slow.items()
    assert fast.get_payload() == slow.get_payload()
    assert fast.get_charset() == slow.get_charset()
    assert fast.as_bytes() == slow.as_bytes()


@pytest.mark.parametrize("policy", [compat32, default])
def test_other_messages_as_set_payload(policy: object) -> None:
    slow = Message(policy=policy)  # type: ignore[arg-type]
    slow["Content-Type"] = "text/plain; charset=x"
    fast = copy.deepcopy(slow)
    set_text(fast, "caf\u00e9\n", Charset("utf-8"))
    slow.set_payload("caf\u00e9\n", Charset("utf-8"))
    assert fast.as_bytes() == slow.as_bytes()
