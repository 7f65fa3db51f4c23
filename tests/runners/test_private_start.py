"""`posthorn start` keeps to itself: a private var/, no descriptor of its caller kept."""

from __future__ import annotations

import fcntl
import os
import select
import stat
import subprocess
from pathlib import Path

import pytest

from tests.runners.harness import POSTHORN, PosthornSite, sample
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

RECORDER = {"class": sample("Recorder")}


def _open_fds(pid: int) -> dict[int, str]:
    """Descriptor number -> what it points at, for ``pid``."""
    folder = Path(f"/proc/{pid}/fd")
    found = {}
    for entry in folder.iterdir():
        try:
            found[int(entry.name)] = os.readlink(entry)
        except OSError:
            continue
    return found


def test_the_daemon_keeps_no_descriptor_of_its_caller(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER, "beta": RECORDER})
    read_end, write_end = os.pipe()
    lock_file = site.root / "caller.lock"
    lock_fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock_fd, fcntl.LOCK_EX)
    try:
        # The caller (a script, an init system) hands a pipe and a locked file down.
        started = subprocess.run(
            [POSTHORN, "-C", str(site.config_file), "start"],
            capture_output=True, text=True, env=site.env(), cwd=site.root, timeout=60,
            pass_fds=(write_end, lock_fd),
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        os.close(write_end)
        os.close(lock_fd)
        rows = site.wait_running(2)
        master = int(started.stdout.split("master pid ")[1].split(")")[0])
        pipe = os.readlink(f"/proc/self/fd/{read_end}")
        lock = str(lock_file)
        for pid in (master, *(int(row["pid"]) for row in rows)):
            held = [t for fd, t in _open_fds(pid).items() if fd > 2 and t in (pipe, lock)]
            assert held == [], f"pid {pid} still holds {held}"
        # Every writer is gone, so the pipe reads as ended; the lock is free.
        assert select.select([read_end], [], [], 5)[0] and os.read(read_end, 1) == b""
        probe = os.open(lock_file, os.O_RDWR)
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(probe)
    finally:
        os.close(read_end)
        site.cli("stop")


def _modes(root: Path) -> dict[str, int]:
    found = {str(root): stat.S_IMODE(root.lstat().st_mode)}
    for path in root.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_var_is_created_private_and_loose_parts_are_tightened(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    # What an earlier version left behind: open folders, a world-readable log.
    old_umask = os.umask(0o022)
    try:
        (site.var / "logs").mkdir(parents=True, mode=0o755)
        (site.var / "logs" / "alpha.log.1").write_text("member@example.org said hello\n")
        (site.var / "archives" / "list" / "2026").mkdir(parents=True, mode=0o755)
        (site.var / "archives" / "list" / "2026" / "1.eml").write_text("Subject: x\n\nx\n")
    finally:
        os.umask(old_umask)
    os.chmod(site.var, 0o755)
    site.start()
    site.wait_running(1)
    wait_for(lambda: (site.var / "logs" / "alpha.log").exists(), "the runner's log")
    wait_for(lambda: "started, slice" in site.log("alpha"), "the runner's first line")
    modes = _modes(site.var)
    loose = {path: f"{mode:04o}" for path, mode in modes.items() if mode & 0o077}
    assert loose == {}
    for folder in ("queue", "logs", "locks", "data", "archives", "run"):
        assert modes[folder] == 0o700, folder
    assert modes["logs/alpha.log"] == 0o600
    assert modes["archives/list/2026/1.eml"] == 0o600
    master_log = site.log("master")
    assert f"made {site.var / 'logs' / 'alpha.log.1'} private: mode 0644 -> 0600" in master_log
    assert f"made {site.var} private: mode 0755 -> 0700" in master_log
