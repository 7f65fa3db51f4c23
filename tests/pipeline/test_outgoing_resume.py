"""The outgoing runner killed in the middle of a big post resumes from its journal.

A 2,000-member list goes out in batches of 100 to a sink that is slow to answer each
DATA, so the post takes seconds; the outgoing runner is killed with SIGKILL (its pid
from ``posthorn status --json``) halfway, and the master starts a new one.  The new
runner recovers the claimed entry and skips the batches its delivery record names as done:
every member gets a copy, and at most the one batch that was in flight twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from posthorn.config import load_config
from posthorn.delivery.ledger import LedgerRecords
from posthorn.queues import Switchboard
from posthorn.site import Site
from tests.pipeline.conftest import member, write_site_file
from tests.processes import free_port, posthorn_command, start_master, stop
from tests.smtpsink import SMTPSink, _Handler
from tests.waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.faults]

MEMBERS = 2000
CHUNK = 100
LIST = "huge@example.org"
# Each batch waits this long for its 250 after the sink has counted it: the window
# in which a kill makes the batch go out twice, made wide on purpose.
DATA_PAUSE = 0.15


class _SlowHandler(_Handler):
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(DATA_PAUSE)
        return reply


class SlowSink(SMTPSink):
    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(
            _SlowHandler(self), hostname="127.0.0.1", port=self.port, decode_data=False
        )
        self._controller.start()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, SlowSink]]:
    sink = SlowSink(free_port())
    sink.start()
    site_file = write_site_file(tmp_path, sink.port, "[master]\nrestart_pause: 100ms\n")
    # One connection, so exactly one batch is ever in flight.
    text = site_file.read_text().replace(
        "[runner.outgoing]\n", f"[runner.outgoing]\nmax_recipients: {CHUNK}\nconnections: 1\n"
    )
    site_file.write_text(text)
    site = Site(load_config(site_file))
    site.databases.upgrade()
    site.lists.create(LIST, owners=["owner@example.org"])
    for n in range(MEMBERS):
        site.lists.subscribe(LIST, member(n))
    site.close()
    try:
        yield site_file, sink
    finally:
        sink.stop()


def _outgoing_pid(site_file: Path, cwd: Path) -> int | None:
    result = subprocess.run(
        [*posthorn_command(), "-C", str(site_file), "status", "--json"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=30,
    )
    if result.returncode != 0:
        return None
    for row in json.loads(result.stdout)["runners"]:
        if row["name"] == "outgoing" and row["state"] == "running" and row["pid"]:
            return int(row["pid"])
    return None


def test_a_killed_outgoing_runner_resumes_without_losing_or_repeating_much(
    site: tuple[Path, SlowSink],
) -> None:
    site_file, sink = site
    master = start_master(site_file, site_file.parent, subprocess.DEVNULL)
    try:
        wait_for(lambda: _outgoing_pid(site_file, site_file.parent), "outgoing", 30)
        first = _outgoing_pid(site_file, site_file.parent)
        assert first is not None
        msg = EmailMessage()
        msg["From"] = "poster@example.net"
        msg["To"] = LIST
        msg["Subject"] = "resume"
        msg["Message-ID"] = "<resume@example.net>"
        msg.set_content("Hello.\n")
        board = Switchboard(site_file.parent / "var" / "queue" / "pipeline", name="pipeline")
        board.enqueue(msg, {"list_id": LIST.replace("@", ".")})

        wait_for(lambda: sink.delivered() >= MEMBERS // 2, "half the list", 60)
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: len(sink.counts) >= MEMBERS, "every member served", 120)
        # The new runner finished: no entry is left, queued or claimed (a finished
        # entry's file may stay behind as a spare, which is no entry).
        outgoing = site_file.parent / "var" / "queue" / "outgoing"
        entries = ("*.pck", "*.bak")
        wait_for(
            lambda: not [p for glob in entries for p in outgoing.glob(glob)],
            "the entry finished",
            30,
        )
    finally:
        stop(master)
    assert _restarted(site_file.parent, first)
    assert set(sink.counts) == {member(n) for n in range(MEMBERS)}
    duplicates = sum(count - 1 for count in sink.counts.values())
    assert duplicates <= CHUNK, f"{duplicates} duplicate copies, more than one batch"
    # The post's delivery record stays (for record_age), naming every member as done.
    records = LedgerRecords(site_file.parent / "var" / "data" / "outgoing")
    with records.open(LIST.replace("@", "."), "list", "<resume@example.net>") as record:
        assert record.done == {member(n) for n in range(MEMBERS)}


def _restarted(cwd: Path, killed: int) -> bool:
    log = (cwd / "var" / "logs" / "master.log").read_text(errors="replace")
    return "SIGKILL" in log and str(killed) in log
