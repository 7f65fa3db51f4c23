"""Replies read in bulk are the replies smtplib reads one by one, errors included."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from posthorn.delivery.replies import MAXLINE, SMTPClient

# Awkward but possible answers: continuation lines, bare LF, no text, spaces and tabs
# around the text, a code that is not a number.
REPLIES = [
    b"250 OK\r\n",
    b"250-first\r\n250-second\r\n250 last\r\n",
    b"250\n",
    b"451 4.3.0  try later \t\r\n",
    b"550 5.1.1 <gone@example.com>: unknown\r\n",
    b"25x what\r\n",
    b"421-closing\n421 now\n",
    b"250 OK\r\n",
]


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected TCP pair on loopback: (the MTA's end, the client's end)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        mta, _ = server.accept()
    client.settimeout(5)
    yield mta, client
    mta.close()
    client.close()


def _client(sock: socket.socket, kind: type[smtplib.SMTP]) -> smtplib.SMTP:
    smtp = kind()
    smtp.sock = sock
    return smtp


def _trickle(mta: socket.socket, pieces: list[bytes], close: bool = False) -> threading.Thread:
    """Write each piece on its own, as an MTA answering pipelined commands does."""

    def write() -> None:
        for piece in pieces:
            mta.sendall(piece)
            time.sleep(0.002)
        if close:
            mta.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def _as_smtplib_reads_them() -> list[tuple[int, bytes]]:
    """smtplib's own reading of REPLIES, on a connection of its own."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        plain_sock = socket.create_connection(server.getsockname())
        plain_mta, _ = server.accept()
    with plain_mta, plain_sock:
        plain_sock.settimeout(5)
        plain_mta.sendall(b"".join(REPLIES))
        plain = _client(plain_sock, smtplib.SMTP)
        return [plain.getreply() for _ in REPLIES]


def test_bulk_replies_are_those_smtplib_reads(pair: tuple[socket.socket, socket.socket]) -> None:
    mta, sock = pair
    expected = _as_smtplib_reads_them()
    # Split inside lines too, so replies arrive in parts.
    stream = b"".join(REPLIES)
    writer = _trickle(mta, [stream[at : at + 7] for at in range(0, len(stream), 7)])
    smtp = _client(sock, SMTPClient)
    assert isinstance(smtp, SMTPClient)
    got = [*smtp.replies(3), smtp.getreply(), *smtp.replies(len(REPLIES) - 4)]
    writer.join()
    assert got == expected


def test_replies_that_never_come_end_in_disconnected(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    mta, sock = pair
    writer = _trickle(mta, [b"250 OK\r\n", b"250 OK\r\n"], close=True)
    smtp = _client(sock, SMTPClient)
    assert isinstance(smtp, SMTPClient)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtp.replies(5)
    writer.join()
    assert smtp.sock is None


def test_a_line_over_the_limit_is_refused_as_smtplib_refuses_it(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    mta, sock = pair
    writer = _trickle(mta, [b"250 OK\r\n", b"250 " + b"x" * MAXLINE + b"\r\n"])
    smtp = _client(sock, SMTPClient)
    assert isinstance(smtp, SMTPClient)
    with pytest.raises(smtplib.SMTPResponseException) as refused:
        smtp.replies(2)
    writer.join()
    assert refused.value.smtp_code == 500
    assert smtp.sock is None


def _answer_one_by_one(
    mta: socket.socket, answers: list[list[bytes]], heard: list[bytes]
) -> threading.Thread:
    """An MTA without PIPELINING: reads one command, answers it (in ``answers``' pieces),
    then the next; notes each command as received, so a second one sent early shows."""

    def serve() -> None:
        buffered = b""
        for pieces in answers:
            while b"\n" not in buffered:
                buffered += mta.recv(4096)
            heard.append(buffered)  # everything received before this answer
            buffered = b""
            for piece in pieces:
                mta.sendall(piece)
                time.sleep(0.002)

    thread = threading.Thread(target=serve)
    thread.start()
    return thread


def test_one_by_one_sends_each_command_after_the_reply_before_and_reads_as_smtplib(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    mta, sock = pair
    expected = _as_smtplib_reads_them()
    # Whole replies, and replies cut inside a line and between lines.
    answers = [[reply] if n % 2 else [reply[:5], reply[5:]] for n, reply in enumerate(REPLIES)]
    heard: list[bytes] = []
    commands = [f"RCPT TO:<m{n}@example.org>\r\n".encode() for n in range(len(REPLIES))]
    writer = _answer_one_by_one(mta, answers, heard)
    smtp = _client(sock, SMTPClient)
    assert isinstance(smtp, SMTPClient)
    got = smtp.one_by_one(commands)
    writer.join()
    assert got == expected
    assert heard == commands


def test_one_by_one_ends_in_disconnected_when_the_mta_goes(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    mta, sock = pair
    writer = _trickle(mta, [b"250 OK\r\n"], close=True)
    smtp = _client(sock, SMTPClient)
    assert isinstance(smtp, SMTPClient)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtp.one_by_one([b"RCPT TO:<a@example.org>\r\n", b"RCPT TO:<b@example.org>\r\n"])
    writer.join()
    assert smtp.sock is None
