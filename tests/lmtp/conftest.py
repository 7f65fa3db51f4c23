"""A real master serving LMTP on a free loopback port, and clients to talk to it.

One master per test module (starting it takes about a second); every test starts with
empty queues.  The limits are set low so that tests can reach them with small messages.
"""

from __future__ import annotations

import smtplib
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from posthorn.queues import Switchboard
from posthorn.queues.spares import PREFIX
from tests.processes import free_port
from tests.sites import prepared_site, running_master, write_site_config

LISTS = ["dev@example.org", "my-list@example.org"]
QUEUES = ["incoming", "command", "bounce"]
LIMITS = {
    "max_message_size": "64KB",
    "max_recipients": "5",
    "max_header_count": "50",
    "max_header_size": "2KB",
    "max_mime_depth": "5",
    "max_mime_parts": "20",
}
RUNNER = {
    "max_connections": "4",
    "idle_timeout": "3s",
    "pressure_idle_timeout": "500ms",
    "hostname": "lists.test",
}


@dataclass
class Master:
    """A running ``posthorn start --foreground`` and what a test needs to know of it."""

    process: subprocess.Popen[bytes]
    port: int
    var_dir: Path

    @property
    def queue_dir(self) -> Path:
        return self.var_dir / "queue"

    def log(self, name: str = "lmtp") -> str:
        path = self.var_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def take(self, queue: str) -> list[tuple[bytes, dict[str, Any]]]:
        """Every entry of ``queue``, removed from it, oldest first."""
        board = Switchboard(self.queue_dir / queue)
        entries = []
        for filebase in board.files:
            entries.append(board.dequeue_raw(filebase))
            board.finish(filebase)
        return entries

    def leftovers(self) -> list[str]:
        """Files other than finished entries: temporary or claimed ones (a finished
        entry's file kept for the next, ``queues.spares``, is neither)."""
        return sorted(
            path.name
            for path in self.queue_dir.rglob("*")
            if path.is_file()
            and not path.name.endswith(".pck")
            and not path.name.startswith(PREFIX)
        )

    def client(self) -> smtplib.LMTP:
        lmtp = smtplib.LMTP("127.0.0.1", self.port, timeout=10)
        lmtp.ehlo_or_helo_if_needed()
        return lmtp


def write_site_file(tmp: Path, port: int) -> Path:
    # Only the LMTP runner: no other runner may take entries off the queues under test.
    extra = {"mta": LIMITS, "runner.lmtp": RUNNER}
    return write_site_config(tmp, lmtp_port=port, running=("lmtp",), extra_sections=extra)


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Master]:
    tmp = tmp_path_factory.mktemp("lmtp")
    port = free_port()
    site_file = write_site_file(tmp, port)
    with prepared_site(site_file) as site:
        for name in LISTS:
            site.lists.create(name)
    with running_master(site_file, port) as process:
        yield Master(process, port, tmp / "var")


@pytest.fixture
def server(master: Master) -> Master:
    """The module's master, with empty queues for this test."""
    for queue in QUEUES:
        master.take(queue)
    return master


class Raw:
    """A bare socket client, for what smtplib would not send."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        assert self.line().startswith(b"220")

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                return b""
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def command(self, text: bytes) -> bytes:
        self.sock.sendall(text + b"\r\n")
        while (reply := self.line())[3:4] == b"-":
            pass
        return reply

    def close(self) -> None:
        self.sock.close()
