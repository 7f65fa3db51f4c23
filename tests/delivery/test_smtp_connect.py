"""Transport when a connection cannot be set up: every recipient waits, nothing leaks."""

from __future__ import annotations

import contextlib
import smtplib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from posthorn.delivery.smtp import SMTPSettings, Transport
from tests.processes import free_port
from tests.smtpsink import SMTPSink

MESSAGE = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"


@pytest.fixture
def sink() -> Iterator[SMTPSink]:
    sink = SMTPSink(free_port())
    sink.start()
    yield sink
    sink.stop()


def test_a_failed_login_closes_the_connection_it_opened(
    sink: SMTPSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[smtplib.SMTP] = []
    connect = smtplib.SMTP.connect

    def recorded_connect(self: smtplib.SMTP, *args: object, **kwargs: object) -> object:
        opened.append(self)
        return connect(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(smtplib.SMTP, "connect", recorded_connect)
    # The sink offers no AUTH, so logging in fails after the connection is up.
    settings = SMTPSettings("127.0.0.1", sink.port, connect_timeout=5, user="u", password="p")
    transport = Transport(settings)
    try:
        result = transport.send("list-bounces@example.org", ["m@example.com"], MESSAGE)
    finally:
        transport.close()
    assert result.accepted == []
    assert result.temporary["m@example.com"][0] == 451
    assert sink.received == []
    (smtp,) = opened
    assert smtp.sock is None


def _silent_after_ehlo(server: socket.socket, heard: list[bytes]) -> None:
    """An MTA that greets and answers EHLO, then reads commands and never answers."""
    conn, _ = server.accept()
    with conn:
        conn.sendall(b"220 mta ready\r\n")
        buffered = b""
        while b"\n" not in buffered:
            buffered += conn.recv(4096)
        conn.sendall(b"250-mta\r\n250 8BITMIME\r\n")
        conn.settimeout(10)
        with contextlib.suppress(OSError):
            while chunk := conn.recv(4096):
                heard.append(chunk)


def test_an_mta_that_stops_answering_fails_the_transaction_after_the_command_timeout() -> None:
    heard: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        mta = threading.Thread(target=_silent_after_ehlo, args=(server, heard))
        mta.start()
        settings = SMTPSettings("127.0.0.1", server.getsockname()[1], connect_timeout=5,
                                command_timeout=0.3)  # fmt: skip
        transport = Transport(settings)
        started = time.monotonic()
        try:
            result = transport.send("list-bounces@example.org", ["m@example.com"], MESSAGE)
        finally:
            transport.close()
        waited = time.monotonic() - started
        mta.join(15)
    assert result.accepted == []
    assert result.temporary["m@example.com"][0] == 451
    assert b"".join(heard).startswith(b"MAIL FROM:<list-bounces@example.org>")
    # Ended by the command timeout, not by the MTA (which waits 10 s for more).
    assert waited < 5
