"""The master lock: a live holder refuses, a dead or impostor holder is broken."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flufl.lock import Lock

from posthorn.runstate import (
    MasterFiles,
    MasterLockError,
    ProcessId,
    start_ticks,
    take_master_lock,
    write_pid_file,
)

LOG = logging.getLogger("posthorn.master")


@pytest.fixture
def files(tmp_path: Path) -> MasterFiles:
    return MasterFiles(tmp_path / "master.lck", tmp_path / "master.pid", tmp_path / "m.json")


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not a Posthorn master."""
    process = subprocess.Popen(["sleep", "60"])
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def forge_lock(path: Path, hostname: str, pid: int) -> None:
    """A lock file as flufl.lock writes it, claimed by ``pid`` on ``hostname``."""
    claim = f"{path}|{hostname}|{pid}|12345"
    Path(claim).write_text(claim, encoding="utf-8")
    os.link(claim, path)


def test_a_live_master_keeps_its_lock(files: MasterFiles) -> None:
    held = Lock(str(files.lock), lifetime=60)
    held.lock()
    try:
        write_pid_file(files.pid, ProcessId.current())
        with pytest.raises(MasterLockError, match="already running"):
            take_master_lock(files, lifetime=60, force=False, log=LOG)
        with pytest.raises(MasterLockError, match="already running"):
            take_master_lock(files, lifetime=60, force=True, log=LOG)
    finally:
        held.unlock()


def test_a_lock_whose_pid_is_gone_is_broken(
    files: MasterFiles, caplog: pytest.LogCaptureFixture
) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    forge_lock(files.lock, socket.getfqdn(), gone.pid)
    with caplog.at_level(logging.WARNING):
        lock = take_master_lock(files, lifetime=60, force=False, log=LOG)
    assert lock.is_locked
    assert "that process is gone" in caplog.text
    lock.unlock()


def test_a_lock_whose_pid_now_names_another_process_is_broken(
    files: MasterFiles, stranger: subprocess.Popen[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    forge_lock(files.lock, socket.getfqdn(), stranger.pid)
    # The dead master's pid file recorded a different start time for that pid.
    write_pid_file(files.pid, ProcessId(stranger.pid, (start_ticks(stranger.pid) or 0) + 1))
    with caplog.at_level(logging.WARNING):
        lock = take_master_lock(files, lifetime=60, force=False, log=LOG)
    assert lock.is_locked
    assert "now belongs to a process that started later" in caplog.text
    lock.unlock()


def test_a_lock_that_cannot_be_checked_needs_force(
    files: MasterFiles, caplog: pytest.LogCaptureFixture
) -> None:
    forge_lock(files.lock, "elsewhere.example.org", 4242)
    with pytest.raises(MasterLockError, match="--force"):
        take_master_lock(files, lifetime=60, force=False, log=LOG)
    with caplog.at_level(logging.WARNING):
        lock = take_master_lock(files, lifetime=60, force=True, log=LOG)
    assert lock.is_locked
    assert "breaking the master lock" in caplog.text
    lock.unlock()


def test_without_a_pid_file_the_command_line_tells(
    files: MasterFiles, stranger: subprocess.Popen[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    forge_lock(files.lock, socket.getfqdn(), stranger.pid)
    with caplog.at_level(logging.WARNING):
        lock = take_master_lock(files, lifetime=60, force=False, log=LOG)
    assert f"pid {stranger.pid} now runs 'sleep 60'" in caplog.text
    lock.unlock()
