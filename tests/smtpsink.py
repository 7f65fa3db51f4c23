"""An SMTP sink on 127.0.0.1 standing in for the MTA: it records every message.

``SMTPSink`` runs aiosmtpd in a thread.  ``sink.tempfail`` / ``sink.reject`` are sets
of recipients answered 451 / 550 at RCPT; ``sink.delay`` makes each DATA wait that many
seconds before its answer (a slow MTA); ``sink.stop()`` and ``sink.start()`` take
the MTA down and bring it back on the same port.  ``sink.received`` lists
``(envelope sender, recipients, message bytes)`` in arrival order; ``sink.find`` and
``sink.wait`` look among them for a message by recipient and subject.
``running_sink()`` is a sink on a free port for the length of a ``with`` block.
"""

from __future__ import annotations

import asyncio
import email
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.processes import free_port
from tests.waiting import wait_for

__all__ = ["SMTPSink", "running_sink"]

# Generous: under a loaded test run a hop can take seconds.
WAIT_DEADLINE = 30.0


class _Handler:
    def __init__(self, sink: SMTPSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.sink.reject:
            return "550 5.1.1 No such user"
        if address.lower() in self.sink.tempfail:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        content = envelope.original_content or b""
        with self.sink.lock:
            self.sink.received.append((str(envelope.mail_from), list(envelope.rcpt_tos), content))
            self.sink.counts.update(address.lower() for address in envelope.rcpt_tos)
            self.sink.last_arrival = time.monotonic()
        return "250 OK"


class SMTPSink:
    def __init__(self, port: int) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.received: list[tuple[str, list[str], bytes]] = []
        self.counts: Counter[str] = Counter()
        self.tempfail: set[str] = set()
        self.reject: set[str] = set()
        self.delay = 0.0
        self.last_arrival = 0.0
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, decode_data=False
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def delivered(self) -> int:
        with self.lock:
            return sum(self.counts.values())

    def messages(self) -> list[tuple[list[str], Message]]:
        """``(recipients, parsed message)`` for everything received so far."""
        with self.lock:
            received = list(self.received)
        return [(rcpts, email.message_from_bytes(content)) for _, rcpts, content in received]

    def find(self, to: str, subject_part: str) -> Message | None:
        for rcpts, msg in self.messages():
            # Long subjects arrive folded.
            if to in rcpts and subject_part in " ".join(str(msg["Subject"]).split()):
                return msg
        return None

    def wait(self, to: str, subject_part: str, deadline: float = WAIT_DEADLINE) -> Message:
        wait_for(lambda: self.find(to, subject_part), f"{subject_part} to {to}", deadline)
        found = self.find(to, subject_part)
        assert found is not None
        return found


@contextmanager
def running_sink() -> Iterator[SMTPSink]:
    """A started sink on a free loopback port, stopped when the block ends."""
    sink = SMTPSink(free_port())
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
