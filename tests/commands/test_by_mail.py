"""End to end: (un)subscribing by mail through a real master, LMTP in, an SMTP sink out.

The master runs the LMTP, command, virgin, outgoing and retry runners; an aiosmtpd sink
stands for the MTA.  Each step waits for its notice at the sink with a deadline.
"""

from __future__ import annotations

import email
import smtplib
import time
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from click.testing import CliRunner

from posthorn.cli import main
from posthorn.config import load_config
from posthorn.site import Site
from tests.lmtp.conftest import wait_for_greeting
from tests.processes import free_port, start_master, stop

pytestmark = pytest.mark.slow

LIST = "dev@example.org"
OWNER = "owner@example.org"
RUNNING = ("lmtp", "command", "virgin", "outgoing", "retry")
# Generous: under a loaded test run a hop can take seconds; a pass takes about 5 s.
DEADLINE = 30.0


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(raw)))
        return "250 OK"

    def find(self, to: str, subject_part: str) -> Message | None:
        for rcpts, msg in self.messages:
            # Long subjects arrive folded.
            if to in rcpts and subject_part in " ".join(str(msg["Subject"]).split()):
                return msg
        return None

    def wait(self, to: str, subject_part: str) -> Message:
        found: Message = wait_for(lambda: self.find(to, subject_part), f"{subject_part} to {to}")
        return found


def body(msg: Message) -> str:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), free_port()
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
    site = Site(load_config(path))
    site.databases.upgrade()
    site.lists.create(LIST, owners=[OWNER])
    site.close()
    return path


def command(sender: str, to: str, subject: str = "", text: str = "", **headers: str) -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + text.replace("\n", "\r\n")).encode()


def test_subscribing_by_mail(tmp_path: Path, sink: tuple[Sink, int]) -> None:
    handler, smtp_port = sink
    lmtp_port = free_port()
    path = write_config(tmp_path, lmtp_port, smtp_port)
    process = start_master(path, tmp_path)

    def post(sender: str, to: str, data: bytes) -> None:
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail(sender, [to], data)

    try:
        wait_for_greeting(process, lmtp_port, tmp_path / "var")
        anne = "anne@example.com"
        # Join a confirm list; confirm by mailing -confirm+TOKEN.
        post(anne, "dev-join@example.org", command(anne, "dev-join@example.org"))
        token = str(handler.wait(anne, "confirm ")["Subject"]).split()[-1]
        to = f"dev-confirm+{token}@example.org"
        post(anne, to, command(anne, to, f"Re: confirm {token}"))
        handler.wait(anne, "Welcome to")
        # Leave; confirm by replying to -request with the token in the Subject.
        post(anne, "dev-leave@example.org", command(anne, "dev-leave@example.org"))

        def requests() -> list[str]:
            return [str(m["Subject"]).split()[-1] for r, m in handler.messages
                    if anne in r and "confirm " in str(m["Subject"])]  # fmt: skip

        wait_for(lambda: len(requests()) == 2, "the second confirmation request")
        token2 = requests()[-1]
        post(anne, "dev-request@example.org",
             command(anne, "dev-request@example.org", f"Re: confirm {token2}"))  # fmt: skip
        handler.wait(anne, "You have left")
        # An expired (or unknown) token gets a clear answer.
        bob = "bob@example.com"
        post(bob, "dev-confirm+stale@example.org", command(bob, "dev-confirm+stale@example.org"))
        assert "unknown or has expired" in body(handler.wait(bob, "results"))
        # A robot gets no answer; a person after it does (one runner, in order).
        robot = "robot@example.com"
        auto = command(robot, "dev-request@example.org", "help", Auto_Submitted="auto-replied")
        post(robot, "dev-request@example.org", auto.replace(b"Auto_", b"Auto-"))
        carol = "carol@example.com"
        lines = "".join(f"line {n}\n" for n in range(500))
        post(carol, "dev-request@example.org", command(carol, "dev-request@example.org", "", lines))
        reply = body(handler.wait(carol, "results"))
        assert reply.count("No such command") == 10 and "490 more lines" in reply
        assert not any(robot in rcpts for rcpts, _ in handler.messages)
        # A moderated list holds the request until the CLI approves it.
        site = Site(load_config(path))
        site.lists.update(LIST, subscription_policy="moderate")
        site.users.get_or_create_address(bob)
        site.users.verify_address(bob)
        site.close()
        post(bob, "dev-join@example.org", command(bob, "dev-join@example.org"))
        handler.wait(OWNER, "needs approval")
        listed = CliRunner().invoke(main, ["-C", str(path), "requests", LIST])
        token = listed.output.split()[0]
        decided = CliRunner().invoke(main, ["-C", str(path), "requests", LIST, token, "accept"])
        assert decided.exit_code == 0, decided.output
        handler.wait(bob, "Welcome to")
    finally:
        stop(process)
