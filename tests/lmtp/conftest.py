"""A real master serving LMTP on a free loopback port, and clients to talk to it.

One master per test module (starting it takes about a second); every test starts with
empty queues.  The limits are set low so that tests can reach them with small messages.
"""

from __future__ import annotations

import smtplib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from posthorn.config import load_config
from posthorn.queues import Switchboard
from posthorn.site import Site
from tests.processes import free_port, start_master, stop

LISTS = ["dev@example.org", "my-list@example.org"]
QUEUES = ["incoming", "command", "bounce"]
START_DEADLINE = 20.0
LIMITS = {
    "max_message_size": "64KB",
    "max_recipients": "5",
    "max_header_count": "50",
    "max_header_size": "2KB",
    "max_mime_depth": "5",
    "max_mime_parts": "20",
}
RUNNER = {"max_connections": "4", "idle_timeout": "2s", "hostname": "lists.test"}


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
        """Files other than finished entries: temporary or claimed ones."""
        return sorted(
            path.name
            for path in self.queue_dir.rglob("*")
            if path.is_file() and not path.name.endswith(".pck")
        )

    def client(self) -> smtplib.LMTP:
        lmtp = smtplib.LMTP("127.0.0.1", self.port, timeout=10)
        lmtp.ehlo_or_helo_if_needed()
        return lmtp


def write_site_file(tmp: Path, port: int) -> Path:
    defaults = load_config(None, overrides={"paths": {"var_dir": str(tmp / "var")}})
    lines = [f"[paths]\nvar_dir: {tmp / 'var'}\n", f"[mta]\nlmtp_port: {port}"]
    lines += [f"{key}: {value}" for key, value in LIMITS.items()]
    lines += ["", "[runner.lmtp]", *(f"{key}: {value}" for key, value in RUNNER.items())]
    # Only the LMTP runner: no other runner may take entries off the queues under test.
    for name in defaults.named("runner"):
        if name != "lmtp":
            lines += ["", f"[runner.{name}]", "start: no"]
    site_file = tmp / "posthorn.cfg"
    site_file.write_text("\n".join(lines) + "\n")
    return site_file


def wait_for_greeting(process: subprocess.Popen[bytes], port: int, var_dir: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"the master exited with {process.returncode}:\n{output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(512).startswith(b"220"):
                    return
        except OSError:
            time.sleep(0.05)
    logs = "\n".join(p.read_text() for p in (var_dir / "logs").glob("*.log"))
    pytest.fail(f"no LMTP greeting on port {port} within {START_DEADLINE}s\n{logs}")


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Master]:
    tmp = tmp_path_factory.mktemp("lmtp")
    port = free_port()
    site_file = write_site_file(tmp, port)
    site = Site(load_config(site_file))
    site.databases.upgrade()
    for name in LISTS:
        site.lists.create(name)
    site.close()
    process = start_master(site_file, tmp)
    try:
        wait_for_greeting(process, port, tmp / "var")
        yield Master(process, port, tmp / "var")
    finally:
        stop(process)


@pytest.fixture
def server(master: Master) -> Master:
    """The module's master, with empty queues for this test."""
    for queue in QUEUES:
        master.take(queue)
    return master
