"""A real master running the pipeline, virgin, outgoing and retry runners, and an SMTP sink.

One master per module; the sink stands in for the MTA (``[mta] smtp_host/smtp_port``).
Retries are fast (``retry_base: 200ms``) so that temporary failures resolve in a test.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from posthorn.config import load_config
from posthorn.queues import Switchboard
from posthorn.site import Site
from tests.processes import free_port, start_master, stop
from tests.smtpsink import SMTPSink
from tests.waiting import queues_idle, wait_for

OURS = {"pipeline", "virgin", "outgoing", "retry"}
BIG = "big@example.org"
SMALL = "small@example.org"


@dataclass
class Delivery:
    process: subprocess.Popen[bytes]
    sink: SMTPSink
    var_dir: Path
    site_file: Path

    def post(self, list_address: str, msg: EmailMessage, **msgdata: Any) -> None:
        list_id = list_address.replace("@", ".")
        board = Switchboard(self.var_dir / "queue" / "pipeline", name="pipeline")
        board.enqueue(msg, {"list_id": list_id, **msgdata})

    def log(self, name: str) -> str:
        path = self.var_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_idle(self) -> None:
        """Wait until no queue of ours holds an entry: nothing more will reach the sink."""
        wait_for(lambda: queues_idle(self.var_dir / "queue", OURS), "the runners idle")


def write_site_file(tmp: Path, smtp_port: int, extra: str = "") -> Path:
    defaults = load_config(None, overrides={"paths": {"var_dir": str(tmp / "var")}})
    lines = [
        f"[paths]\nvar_dir: {tmp / 'var'}\n",
        f"[mta]\nsmtp_port: {smtp_port}\nlmtp_port: {free_port()}\n",
        "[runner.outgoing]\nretry_base: 200ms\nconnect_timeout: 2s\ncommand_timeout: 5s\n",
    ]
    for name in defaults.named("runner"):
        if name not in OURS:
            lines.append(f"[runner.{name}]\nstart: no\n")
    path = tmp / "posthorn.cfg"
    path.write_text("\n".join(lines) + extra)
    return path


def member(n: int) -> str:
    return f"m{n:05d}@d{n % 7}.example.com"


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Delivery]:
    tmp = tmp_path_factory.mktemp("delivery")
    sink = SMTPSink(free_port())
    sink.start()
    site_file = write_site_file(tmp, sink.port)
    site = Site(load_config(site_file))
    site.databases.upgrade()
    site.lists.create(BIG, owners=["owner@example.org"])
    site.lists.create(SMALL, owners=["owner@example.org"])
    for n in range(1000):
        site.lists.subscribe(BIG, member(n))
    for n in range(3):
        site.lists.subscribe(SMALL, member(n))
    site.close()
    process = start_master(site_file, tmp, subprocess.DEVNULL)
    try:
        yield Delivery(process, sink, tmp / "var", site_file)
    finally:
        stop(process)
        sink.stop()


@pytest.fixture
def sink(delivery: Delivery) -> Iterator[SMTPSink]:
    """The module's sink, emptied, with no failures set, for this test."""
    with delivery.sink.lock:
        delivery.sink.received.clear()
        delivery.sink.counts.clear()
    delivery.sink.tempfail.clear()
    delivery.sink.reject.clear()
    yield delivery.sink
