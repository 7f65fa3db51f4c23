"""Transport with an MTA that offers PIPELINING: one write for the envelope, same results."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from posthorn.delivery.smtp import SMTPSettings, Transport
from tests.processes import free_port
from tests.smtpsink import SMTPSink, _Handler

MESSAGE = b"From: a@example.org\r\nSubject: hi\r\n\r\n.leading dot\r\nbody\r\n"


class _Pipelining(_Handler):
    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


class PipeliningSink(SMTPSink):
    def start(self) -> None:
        self._controller = Controller(
            _Pipelining(self), hostname="127.0.0.1", port=self.port, decode_data=False
        )
        self._controller.start()


@pytest.fixture
def sink() -> Iterator[PipeliningSink]:
    sink = PipeliningSink(free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def transport(sink: PipeliningSink) -> Iterator[Transport]:
    transport = Transport(SMTPSettings("127.0.0.1", sink.port, connect_timeout=5))
    yield transport
    transport.close()


def test_a_pipelined_batch_sorts_every_recipient_by_its_reply(
    sink: PipeliningSink, transport: Transport
) -> None:
    sink.tempfail.add("later@example.com")
    sink.reject.add("gone@example.com")
    recipients = [f"m{n}@example.com" for n in range(50)]
    recipients += ["later@example.com", "gone@example.com"]
    result = transport.send("list-bounces@example.org", recipients, MESSAGE)
    assert result.accepted == recipients[:50]
    assert set(result.temporary) == {"later@example.com"}
    assert result.permanent["gone@example.com"][0] == 550
    assert result.message_error is None
    ((sender, rcpts, content),) = sink.received
    assert (sender, rcpts) == ("list-bounces@example.org", recipients[:50])
    assert b"\r\n.leading dot\r\n" in content


def test_a_connection_is_reused_after_a_batch_nobody_accepted(
    sink: PipeliningSink, transport: Transport
) -> None:
    sink.reject.add("gone@example.com")
    refused = transport.send("list-bounces@example.org", ["gone@example.com"], MESSAGE)
    assert set(refused.permanent) == {"gone@example.com"} and not refused.accepted
    served = transport.send("list-bounces@example.org", ["ok@example.com"], MESSAGE)
    assert served.accepted == ["ok@example.com"]
    assert [rcpts for _, rcpts, _ in sink.received] == [["ok@example.com"]]
