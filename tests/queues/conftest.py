"""Fixtures for the queue tests: a private queue root and real worker processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from posthorn.queues import Switchboard

WORKER = Path(__file__).with_name("queue_worker.py")


@pytest.fixture
def queue_root(tmp_path: Path) -> Path:
    """The directory holding the queues (``var/queue`` in a real installation)."""
    return tmp_path / "queue"


@pytest.fixture
def incoming(queue_root: Path) -> Iterator[Switchboard]:
    with Switchboard(queue_root / "incoming") as queue:
        yield queue


class Workers:
    """Starts ``queue_worker.py`` processes and reaps every one of them at teardown."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, role: str, *args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, str(WORKER), role, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.processes.append(process)
        return process

    @staticmethod
    def read_line(process: subprocess.Popen[str]) -> str:
        """The next line the worker prints (the test's timeout bounds the wait)."""
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, f"worker exited early with status {process.wait()}"
        return line.strip()

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


@pytest.fixture
def workers() -> Iterator[Workers]:
    pool = Workers()
    try:
        yield pool
    finally:
        pool.close()
