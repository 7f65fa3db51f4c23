"""Replies to pipelined commands: every one, in order, MAIL's and RCPT's in one write with
the reply that follows them, and never held while the session waits for the client."""

from __future__ import annotations

import pytest

from tests.lmtp.conftest import Master, Raw

pytestmark = pytest.mark.slow

MESSAGE = b"From: alice@example.com\r\nSubject: pipelined\r\n\r\nhello\r\n"


def test_a_pipelined_transaction_is_answered_in_one_write_per_wait(server: Master) -> None:
    raw = Raw(server.port)
    assert raw.command(b"LHLO test").startswith(b"250")
    raw.sock.sendall(
        b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<dev@example.org>\r\n"
        b"RCPT TO:<nobody@example.org>\r\nRCPT TO:<my-list@example.org>\r\nDATA\r\n"
    )
    # One read: the five replies went out in one write, once the 354 was owed.
    replies = raw.sock.recv(4096).split(b"\r\n")
    assert [reply[:3] for reply in replies] == [b"250", b"250", b"550", b"250", b"354", b""]
    raw.sock.sendall(MESSAGE + b".\r\n")
    assert [raw.line()[:3] for _ in range(2)] == [b"250", b"250"]
    assert raw.command(b"QUIT").startswith(b"221")
    raw.close()
    recipients = sorted(md["original_recipient"] for _, md in server.take("incoming"))
    assert recipients == ["dev@example.org", "my-list@example.org"]


def test_a_reply_is_not_held_for_a_command_not_yet_whole(server: Master) -> None:
    raw = Raw(server.port)
    assert raw.command(b"LHLO test").startswith(b"250")
    # MAIL is followed by part of a line: its reply must not wait for the rest.
    raw.sock.sendall(b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<dev@exam")
    assert raw.line().startswith(b"250")
    raw.sock.sendall(b"ple.org>\r\n")
    assert raw.line().startswith(b"250")
    assert raw.command(b"RSET").startswith(b"250")
    raw.close()


def test_replies_held_before_a_quit_go_out_before_its_farewell(server: Master) -> None:
    raw = Raw(server.port)
    assert raw.command(b"LHLO test").startswith(b"250")
    raw.sock.sendall(
        b"MAIL FROM:<alice@example.com>\r\nRSET\r\nRCPT TO:<dev@example.org>\r\nQUIT\r\n"
    )
    assert [raw.line()[:3] for _ in range(4)] == [b"250", b"250", b"503", b"221"]
    assert raw.line() == b""
    raw.close()
