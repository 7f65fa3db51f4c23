"""End to end: (un)subscribing by mail through a real master, LMTP in, an SMTP sink out.

The master runs the LMTP, command, virgin, outgoing and retry runners; an aiosmtpd sink
stands for the MTA.  Each step waits for its notice at the sink with a deadline.
"""

from __future__ import annotations

import json
import smtplib
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from click.testing import CliRunner

from posthorn.cli import main
from tests.processes import free_port
from tests.sites import open_site, prepared_site, running_master, write_site_config
from tests.smtpsink import SMTPSink, running_sink
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

LIST = "dev@example.org"
OWNER = "owner@example.org"
RUNNING = ("lmtp", "command", "virgin", "outgoing", "retry")


def body(msg: Message) -> str:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@pytest.fixture
def sink() -> Iterator[SMTPSink]:
    with running_sink() as sink:
        yield sink


def write_config(tmp: Path, lmtp_port: int, smtp_port: int) -> Path:
    path = write_site_config(tmp, lmtp_port=lmtp_port, smtp_port=smtp_port, running=RUNNING)
    with prepared_site(path) as site:
        site.lists.create(LIST, owners=[OWNER])
    return path


def command(sender: str, to: str, subject: str = "", text: str = "", **headers: str) -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + text.replace("\n", "\r\n")).encode()


def test_subscribing_by_mail(tmp_path: Path, sink: SMTPSink) -> None:
    lmtp_port = free_port()
    path = write_config(tmp_path, lmtp_port, sink.port)

    def post(sender: str, to: str, data: bytes) -> None:
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail(sender, [to], data)

    with running_master(path, lmtp_port):
        anne = "anne@example.com"
        # Join a confirm list; confirm by mailing -confirm+TOKEN.
        post(anne, "dev-join@example.org", command(anne, "dev-join@example.org"))
        token = str(sink.wait(anne, "confirm ")["Subject"]).split()[-1]
        to = f"dev-confirm+{token}@example.org"
        post(anne, to, command(anne, to, f"Re: confirm {token}"))
        sink.wait(anne, "Welcome to")
        # Leave; confirm by replying to -request with the token in the Subject.
        post(anne, "dev-leave@example.org", command(anne, "dev-leave@example.org"))

        def requests() -> list[str]:
            return [str(m["Subject"]).split()[-1] for r, m in sink.messages()
                    if anne in r and "confirm " in str(m["Subject"])]  # fmt: skip

        wait_for(lambda: len(requests()) == 2, "the second confirmation request")
        token2 = requests()[-1]
        post(anne, "dev-request@example.org",
             command(anne, "dev-request@example.org", f"Re: confirm {token2}"))  # fmt: skip
        sink.wait(anne, "You have left")
        # An expired (or unknown) token gets a clear answer.
        bob = "bob@example.com"
        post(bob, "dev-confirm+stale@example.org", command(bob, "dev-confirm+stale@example.org"))
        assert "unknown or has expired" in body(sink.wait(bob, "results"))
        # A robot gets no answer; a person after it does (one runner, in order).
        robot = "robot@example.com"
        auto = command(robot, "dev-request@example.org", "help", Auto_Submitted="auto-replied")
        post(robot, "dev-request@example.org", auto.replace(b"Auto_", b"Auto-"))
        carol = "carol@example.com"
        lines = "".join(f"line {n}\n" for n in range(500))
        post(carol, "dev-request@example.org", command(carol, "dev-request@example.org", "", lines))
        reply = body(sink.wait(carol, "results"))
        assert reply.count("No such command") == 10 and "490 more lines" in reply
        assert not any(robot in rcpts for rcpts, _ in sink.messages())
        # A moderated list holds the request until the CLI approves it.
        with open_site(path) as site:
            site.lists.update(LIST, subscription_policy="moderate")
            site.users.get_or_create_address(bob)
            site.users.verify_address(bob)
        post(bob, "dev-join@example.org", command(bob, "dev-join@example.org"))
        sink.wait(OWNER, "needs approval")
        listed = CliRunner().invoke(main, ["-C", str(path), "requests", LIST, "--json"])
        token = json.loads(listed.output)[0]["id"]
        decided = CliRunner().invoke(main, ["-C", str(path), "requests", LIST, token, "accept"])
        assert decided.exit_code == 0, decided.output
        sink.wait(bob, "Welcome to")
