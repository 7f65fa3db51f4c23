"""The LMTP handler in-process: faults of ours are 4xx, per recipient, and logged."""

from __future__ import annotations

import asyncio
import errno
import logging
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.smtp import Envelope

from posthorn.intake.lmtp import Directory, LMTPIntake
from posthorn.intake.precheck import Limits
from posthorn.interfaces.queues import ISwitchboard
from posthorn.queues import Switchboard
from posthorn.site import Site

MESSAGE = b"Subject: hello\r\n\r\nbody\r\n"
log = logging.getLogger("posthorn.lmtp")


class BrokenQueue:
    """A queue whose writes or syncs fail with a given OSError."""

    def __init__(self, real: Switchboard, *, write: OSError | None, sync: OSError | None) -> None:
        self.real, self.write_error, self.sync_error = real, write, sync

    def enqueue(self, msg: bytes, msgdata: dict[str, Any], *, durable: bool = True) -> str:
        if self.write_error is not None:
            raise self.write_error
        return self.real.enqueue(msg, msgdata, durable=durable)

    def sync(self) -> None:
        if self.sync_error is not None:
            raise self.sync_error


class DownDirectory:
    @property
    def lists(self) -> Any:
        raise ConnectionError("database is down")

    @property
    def domains(self) -> Any:
        raise ConnectionError("database is down")


def make_intake(directory: Directory, queue: Any) -> LMTPIntake:
    return LMTPIntake(
        directory, queue, limits=Limits(), max_recipients=3, hostname="lists.test", log=log
    )


def transaction(intake: LMTPIntake, recipients: list[str]) -> tuple[list[str], str]:
    async def main() -> tuple[list[str], str]:
        envelope = Envelope()
        envelope.mail_from = "alice@example.com"
        server, session = cast(Any, None), cast(Any, None)
        rcpt = [
            await intake.handle_RCPT(server, session, envelope, address, [])
            for address in recipients
        ]
        envelope.original_content = envelope.content = MESSAGE
        return rcpt, await intake.handle_DATA(server, session, envelope)

    try:
        return asyncio.run(main())
    finally:
        intake.close()


@pytest.fixture
def queues(var_dir: Path) -> dict[str, Switchboard]:
    return {name: Switchboard(var_dir / "queue" / name) for name in ("incoming", "bounce")}


@pytest.fixture
def dev_site(site: Site) -> Site:
    site.lists.create("dev@example.org")
    return site


def test_accepted_recipients_are_queued_with_their_metadata(
    dev_site: Site, queues: dict[str, Switchboard]
) -> None:
    intake = make_intake(dev_site, queues.__getitem__)
    rcpt, data = transaction(
        intake, ["dev@example.org", "dev-bounces@example.org", "x@example.org", "a@b.c", "z"]
    )
    assert rcpt == [
        "250 2.1.5 OK",
        "250 2.1.5 OK",
        "550 5.1.1 No such list: x@example.org",
        "550 5.1.2 Domain not served here: b.c",
        "550 5.1.1 No such list: z",
    ]
    replies = data.split("\r\n")
    assert len(replies) == 2 and all(reply.startswith("250 2.0.0") for reply in replies)
    (filebase,) = queues["incoming"].files
    message, msgdata = queues["incoming"].dequeue_raw(filebase)
    assert message.startswith(b"Message-ID: <") and message.endswith(MESSAGE)
    assert msgdata["list_id"] == "dev.example.org"
    assert msgdata["envelope_sender"] == "alice@example.com"
    assert msgdata["original_size"] == len(MESSAGE)


def test_too_many_recipients(dev_site: Site, queues: dict[str, Switchboard]) -> None:
    intake = make_intake(dev_site, queues.__getitem__)
    rcpt, data = transaction(intake, ["dev@example.org"] * 4)
    assert rcpt[3] == "452 4.5.3 Too many recipients (limit 3)"
    assert len(data.split("\r\n")) == 3


def test_database_down_at_rcpt_is_451(caplog: pytest.LogCaptureFixture) -> None:
    intake = make_intake(DownDirectory(), lambda name: None)
    with caplog.at_level(logging.ERROR, "posthorn.lmtp"):
        rcpt, _ = transaction(intake, ["dev@example.org"])
    assert rcpt == ["451 4.3.0 Cannot look up the list now, try again later"]
    assert "database is down" in caplog.text


@pytest.mark.parametrize(
    ("write", "sync", "reply"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), None, "452 4.3.1"),
        (OSError(errno.EACCES, "Permission denied"), None, "451 4.3.0"),
        (None, OSError(errno.EIO, "Input/output error"), "451 4.3.0"),
    ],
)
def test_queue_faults_are_4xx_for_the_recipients_they_hit(
    dev_site: Site,
    queues: dict[str, Switchboard],
    caplog: pytest.LogCaptureFixture,
    write: OSError | None,
    sync: OSError | None,
    reply: str,
) -> None:
    broken = BrokenQueue(queues["incoming"], write=write, sync=sync)

    def queue(name: str) -> ISwitchboard:
        return cast(ISwitchboard, broken) if name == "incoming" else queues[name]

    intake = make_intake(dev_site, queue)
    with caplog.at_level(logging.ERROR, "posthorn.lmtp"):
        _, data = transaction(intake, ["dev@example.org", "dev-bounces@example.org"])
    first, second = data.split("\r\n")
    assert first.startswith(reply)
    assert second.startswith("250 2.0.0")
    assert "cannot queue the message for dev@example.org" in caplog.text
    assert len(queues["bounce"].files) == 1


def test_refused_structure_is_one_reply_per_recipient(
    dev_site: Site, queues: dict[str, Switchboard]
) -> None:
    intake = LMTPIntake(
        dev_site,
        queues.__getitem__,
        limits=Limits(max_header_count=0),
        max_recipients=3,
        hostname="lists.test",
        log=log,
    )
    _, data = transaction(intake, ["dev@example.org", "dev-owner@example.org"])
    assert data.split("\r\n") == ["554 5.6.0 Too many header fields (limit 0)"] * 2
    assert queues["incoming"].files == []


def test_an_unexpected_fault_at_data_is_451_for_every_recipient(
    dev_site: Site,
    queues: dict[str, Switchboard],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    intake = make_intake(dev_site, queues.__getitem__)

    def broken(target: Any, common: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(intake, "metadata", broken)
    with caplog.at_level(logging.ERROR, "posthorn.lmtp"):
        _, data = transaction(intake, ["dev@example.org", "dev-owner@example.org"])
    # Not aiosmtpd's single "500 Error": a 5xx would bounce mail we may yet take, and
    # LMTP owes one reply per recipient.
    assert data.split("\r\n") == ["451 4.3.0 Error in processing, try again later"] * 2
    assert "a bug of ours" in caplog.text
    assert intake.idle.is_set()
