"""Transport when a connection cannot be set up: every recipient waits, nothing leaks."""

from __future__ import annotations

import smtplib
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
