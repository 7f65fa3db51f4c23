"""``posthorn where``: queues, held messages and the transactions in smtp.log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from posthorn.delivery.smtp import SMTPSettings, Transport
from posthorn.queues import Switchboard
from tests.processes import free_port
from tests.sites import bare_site
from tests.sites import run_cli as run
from tests.smtpsink import SMTPSink

MID = "<where-1@example.net>"
MESSAGE = f"From: a@example.org\nTo: dev@example.org\nMessage-ID: {MID}\n\nbody\n".encode()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return bare_site(tmp_path, monkeypatch)


def test_where_finds_a_queued_entry(site: Path) -> None:
    with Switchboard(site.parent / "var" / "queue" / "outgoing") as outgoing:
        outgoing.enqueue(MESSAGE, {"list_id": "dev.example.org"})
    code, output = run(site, "where", MID)
    assert code == 0
    assert "queue outgoing (queued)" in output


def test_where_reports_delivery_from_smtp_log(site: Path) -> None:
    code, output = run(site, "where", MID)
    assert code == 1
    assert "not in smtp.log" in output
    log_dir = site.parent / "var" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_dir / "smtp.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s %(message)s"))
    logger = logging.getLogger("posthorn.smtp")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    sink = SMTPSink(free_port())
    sink.start()
    transport = Transport(SMTPSettings("127.0.0.1", sink.port))
    try:
        for recipients in (["a@example.com", "b@example.com"], ["c@example.com"]):
            result = transport.send(
                "dev-bounces@example.org", recipients, MESSAGE,
                message_id=MID, list_id="dev.example.org",
            )  # fmt: skip
            assert len(result.accepted) == len(recipients)
        transport.send("x@example.org", ["d@example.com"], MESSAGE, message_id="<other@x>")
    finally:
        transport.close()
        sink.stop()
        logger.removeHandler(handler)
        handler.close()
    line = (log_dir / "smtp.log").read_text().splitlines()[0]
    assert f"message-id={MID} list=dev.example.org from=dev-bounces@example.org" in line
    code, output = run(site, "where", MID.strip("<>"))
    assert code == 0
    assert f"{MID}: delivered to 3 recipients (last at " in output
