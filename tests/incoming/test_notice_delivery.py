"""End to end: a held post's moderator notice leaves through virgin and outgoing.

A real master runs the LMTP, incoming, virgin, outgoing and retry runners; an aiosmtpd
sink on a loopback port stands for the MTA and records what it is given.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from posthorn.config import load_config
from tests.incoming.fixtures import LIST, MODERATOR, OWNER, make_post
from tests.incoming.test_master import create_list, wait_for
from tests.lmtp.conftest import wait_for_greeting
from tests.processes import free_port, start_master, stop

pytestmark = pytest.mark.slow

RUNNING = ("lmtp", "incoming", "virgin", "outgoing", "retry")


class Sink:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def write_config(tmp: Path, lmtp_port: int, smtp_port: int) -> Path:
    defaults = load_config(None, overrides={"paths": {"var_dir": str(tmp / "var")}})
    lines = [f"[paths]\nvar_dir: {tmp / 'var'}",
             f"[mta]\nlmtp_port: {lmtp_port}\nsmtp_port: {smtp_port}"]  # fmt: skip
    lines += [f"[runner.{name}]\nstart: no" for name in defaults.named("runner")
              if name not in RUNNING]  # fmt: skip
    path = tmp / "posthorn.cfg"
    path.write_text("\n\n".join(lines) + "\n")
    return path


def test_moderator_notice_reaches_the_mta(tmp_path: Path, sink: tuple[Sink, int]) -> None:
    handler, smtp_port = sink
    lmtp_port = free_port()
    path = write_config(tmp_path, lmtp_port, smtp_port)
    create_list(path)
    process = start_master(path, tmp_path)
    try:
        wait_for_greeting(process, lmtp_port, tmp_path / "var")
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail("stranger@example.net", [LIST],
                          make_post(sender="stranger@example.net", subject="outsider"))  # fmt: skip

        def moderator_notice() -> Envelope | None:
            for envelope in handler.envelopes:
                if MODERATOR in envelope.rcpt_tos:
                    return envelope
            return None

        envelope = wait_for(moderator_notice, "the moderator notice at the sink")
        assert sorted(envelope.rcpt_tos) == sorted([OWNER, MODERATOR])
        assert envelope.mail_from == "dev-bounces@example.org"
        assert b"requires approval" in (envelope.original_content or b"")
    finally:
        stop(process)
