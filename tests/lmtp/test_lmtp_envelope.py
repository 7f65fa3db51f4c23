"""The LMTP session's kept parse of MAIL/RCPT arguments reads each as aiosmtpd does."""

from __future__ import annotations

import pytest
from aiosmtpd.lmtp import LMTP

from posthorn.intake.session import LMTPSession

ARGUMENTS = [
    "<alice@example.org>",
    "<alice@example.org> SIZE=1234",
    "<alice@example.org>  SIZE=99 BODY=8BITMIME",
    "<alice@example.org>\tSIZE=5",
    "<Alice.Smith@Example.ORG>",
    "<a@[127.0.0.1]> SIZE=1",
    "<@relay.example:alice@example.org> SIZE=1",
    "<alice@example.org",
    "<alice@example.org>x",
    "<alice@example.org> (comment) SIZE=1",
    '<"quoted local"@example.org> SIZE=1',
    "<al(ice)@example.org>",
    "<> SIZE=1",
    "<>",
    "<a@b>>",
    "<no-at-sign> SIZE=1",
    "<a..b@example.org>",
    "alice@example.org SIZE=1",
    " <alice@example.org> SIZE=1",
    "<" + "x" * 70 + "@example.org>",
    "",
]


def session(limit: int) -> LMTPSession:
    # Only the parse is exercised: no connection, loop or handler is needed for it.
    made = LMTPSession.__new__(LMTPSession)
    made.local_part_limit = limit
    return made


@pytest.mark.parametrize("limit", [0, 64])
@pytest.mark.parametrize("argument", ARGUMENTS)
def test_same_as_aiosmtpd(argument: str, limit: int) -> None:
    ours = session(limit)
    # Twice: the second answer comes from what the first one kept.
    assert ours._getaddr(argument) == LMTP._getaddr(ours, argument)
    assert ours._getaddr(argument) == LMTP._getaddr(ours, argument)
