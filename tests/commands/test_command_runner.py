"""The command runner in process: enqueue on ``command``, drain, read queue ``virgin``."""

from __future__ import annotations

from email.message import Message
from email.mime.text import MIMEText
from typing import Any

import pytest

from posthorn.config import Config
from posthorn.queues import Switchboard
from posthorn.runners.command import CommandRunner
from posthorn.site import Site
from tests.conftest import ConfigFactory

LIST = "dev@example.org"
OWNER = "owner@example.org"
ANNE = "anne@example.com"


@pytest.fixture
def config(make_config: ConfigFactory) -> Config:
    return make_config({"runner.command": {"max_lines": "5"}})


@pytest.fixture
def runner(site: Site) -> CommandRunner:
    site.lists.create(LIST, owners=[OWNER])
    return CommandRunner(site, "command")


def mail(body: str = "", subject: str = "", sender: str = ANNE, **headers: str) -> Message:
    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = sender
    msg["To"] = "dev-request@example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = "<cmd@example.com>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


def send(
    runner: CommandRunner, msg: Message, subaddress: str = "request", **extra: Any
) -> list[tuple[Message, dict[str, Any]]]:
    """Run one command message; return every notice it put on queue virgin."""
    data = {"list_id": "dev.example.org", "subaddress": subaddress,
            "envelope_sender": extra.pop("envelope_sender", ANNE), **extra}  # fmt: skip
    runner.queue("command").enqueue(msg, data)
    assert runner.run_once() == 1
    virgin = Switchboard(runner.site.config.path("queue_dir") / "virgin", name="virgin")
    found = []
    for filebase in virgin.get_files():
        notice, msgdata = virgin.dequeue(filebase)
        virgin.finish(filebase)
        found.append((notice, msgdata))
    return found


def text_of(msg: Message) -> str:
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def by_kind(found: list[tuple[Message, dict[str, Any]]], kind: str) -> Message:
    return next(msg for msg, data in found if data["notice"] == kind)


def test_join_address_then_confirm_by_subject(runner: CommandRunner) -> None:
    found = send(runner, mail(), subaddress="join")
    assert sorted(d["notice"] for _, d in found) == ["command-results", "confirm-subscribe"]
    token = str(by_kind(found, "confirm-subscribe")["Subject"]).split()[1]
    assert "confirmation request was sent" in text_of(by_kind(found, "command-results"))
    # A reply to the confirmation that reaches -confirm without the token in the address.
    found = send(runner, mail(subject=f"Re: confirm {token}"), subaddress="confirm")
    assert "is now a member" in text_of(by_kind(found, "command-results"))
    assert by_kind(found, "welcome")["To"] == ANNE
    assert runner.site.lists.roster(LIST).get_member(ANNE) is not None


def test_request_commands_one_reply_and_end(runner: CommandRunner) -> None:
    runner.site.lists.update(LIST, member_roster_visibility="public")
    body = "help\n\nwho\n> quoted join\nbogus\nend\njoin\n"
    found = send(runner, mail(body))
    assert [d["notice"] for _, d in found] == ["command-results"]
    text = text_of(found[0][0])
    assert "> help" in text and "join [digest=" in text
    assert "Members of dev@example.org: 0" in text
    assert "No such command: bogus" in text
    assert "> join" not in text


def test_leave_with_bad_and_other_address(runner: CommandRunner) -> None:
    runner.site.lists.subscribe(LIST, "bob@example.com")
    found = send(runner, mail("leave address=bob@example.com\nleave nonsense\n"))
    text = text_of(by_kind(found, "command-results"))
    assert "A confirmation request was sent to bob@example.com" in text
    assert "Bad argument 'nonsense'" in text
    assert by_kind(found, "confirm-unsubscribe")["To"] == "bob@example.com"


def test_only_max_lines_are_read(runner: CommandRunner) -> None:
    body = "".join(f"line {n}\n" for n in range(500))
    text = text_of(send(runner, mail(body))[0][0])
    assert text.count("No such command") == 5
    assert "495 more lines were ignored" in text


def test_signature_ends_the_commands(runner: CommandRunner) -> None:
    text = text_of(send(runner, mail("who\n-- \njoin\n"))[0][0])
    assert "> join" not in text


@pytest.mark.parametrize(
    ("headers", "envelope_sender"),
    [
        ({"Auto_Submitted": "auto-replied"}, ANNE),
        ({"Precedence": "bulk"}, ANNE),
        ({}, ""),
        ({}, "dev-bounces@example.org"),
    ],
)
def test_robots_get_no_reply(
    runner: CommandRunner, headers: dict[str, str], envelope_sender: str
) -> None:
    sender = envelope_sender or ANNE
    msg = mail("join", sender=sender, **headers)
    assert send(runner, msg, envelope_sender=envelope_sender) == []


def test_unknown_token_gets_a_clear_reply(runner: CommandRunner) -> None:
    found = send(runner, mail(), subaddress="confirm", token="no-such-token")
    assert "unknown or has expired" in text_of(found[0][0])
