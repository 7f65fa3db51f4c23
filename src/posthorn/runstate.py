"""The master's files under ``[paths]``: the lock, the pid file and the state file.

The master writes them; ``posthorn status``, ``stop``, ``restart`` and ``reopen`` read
them.  Both sides use this module, so the formats are defined once, in the core, and
the command line never has to import the runners to find its master.

A pid alone does not identify a process: after a crash and a reboot (or just a long
time) the number may belong to something else entirely, and a signal sent to it would
hit an innocent process.  So the pid file records the process's start time as well
(field 22 of ``/proc/PID/stat``, clock ticks since boot), and a reader trusts a pid only
while both still match.  A zombie counts as gone: it runs no code, and in a container
without a reaping init it may linger forever.
"""

from __future__ import annotations

import json
import logging
import os
import select
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flufl.lock import Lock, NotLockedError, TimeOutError

from posthorn.config import Config
from posthorn.errors import PosthornError

__all__ = [
    "MasterFiles",
    "MasterLockError",
    "NotRunning",
    "ProcessId",
    "read_pid_file",
    "read_state",
    "running_master",
    "signal_master",
    "take_master_lock",
    "write_atomically",
    "write_pid_file",
    "write_state",
]

STATE_VERSION = 1


@dataclass(frozen=True)
class MasterFiles:
    """Where one site's master keeps its lock, pid file and state file."""

    lock: Path
    pid: Path
    state: Path

    @classmethod
    def of(cls, config: Config) -> MasterFiles:
        return cls(
            lock=config.path("lock_dir") / "master.lck",
            pid=config.path("run_dir") / "master.pid",
            state=config.path("run_dir") / "master.json",
        )


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, or None if unreadable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text("ascii", "replace")
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    return text.rpartition(")")[2].split()


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot; None if it cannot be told."""
    fields = _stat_fields(pid)
    if fields is None or len(fields) < 20:
        return None
    return int(fields[19])


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat_fields(pid)
    return fields is None or fields[0] not in ("Z", "X")


@dataclass(frozen=True)
class ProcessId:
    """A process as a pid plus its start time, so a reused pid is not mistaken for it."""

    pid: int
    start: int | None

    @classmethod
    def of(cls, pid: int) -> ProcessId:
        return cls(pid, start_ticks(pid))

    @classmethod
    def current(cls) -> ProcessId:
        return cls.of(os.getpid())

    def alive(self) -> bool:
        """True while this very process (not merely its pid) still runs."""
        if self.pid <= 0 or not _exists(self.pid):
            return False
        return self.start is None or start_ticks(self.pid) in (None, self.start)

    def wait_gone(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the process to end; True if it has.

        It need not be our child: a pidfd (Linux 5.3+) becomes readable when it exits,
        so the wait ends at once; elsewhere the pid is looked at every 50 ms.
        """
        deadline = time.monotonic() + timeout
        try:
            fd = os.pidfd_open(self.pid)
        except (OSError, AttributeError):
            fd = -1
        try:
            while self.alive():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if fd >= 0:
                    select.select([fd], [], [], min(remaining, 1.0))
                else:
                    time.sleep(min(remaining, 0.05))
            return True
        finally:
            if fd >= 0:
                os.close(fd)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` so that a reader sees the old content or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_pid_file(path: Path, process: ProcessId) -> None:
    """Line one is the pid (what ``kill $(head -1 FILE)`` wants), line two its start."""
    start = "" if process.start is None else str(process.start)
    write_atomically(path, f"{process.pid}\n{start}\n")


def read_pid_file(path: Path) -> ProcessId | None:
    """The process a pid file names, alive or not; None if there is no usable file."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        pid = int(lines[0])
        start = int(lines[1]) if len(lines) > 1 and lines[1].strip() else None
    except (IndexError, ValueError):
        return None
    return ProcessId(pid, start)


def running_master(config: Config) -> ProcessId | None:
    """The site's master if it is running, by its pid file; None otherwise."""
    master = read_pid_file(MasterFiles.of(config).pid)
    return master if master is not None and master.alive() else None


class NotRunning(PosthornError):
    """There is no live master to talk to."""


def signal_master(config: Config, signum: int) -> ProcessId:
    """Send ``signum`` to the running master; raise NotRunning if there is none."""
    master = running_master(config)
    if master is None:
        raise NotRunning(
            f"Posthorn is not running (no live master in {MasterFiles.of(config).pid})"
        )
    os.kill(master.pid, signum)
    return master


def write_state(path: Path, state: dict[str, Any]) -> None:
    write_atomically(path, json.dumps({"version": STATE_VERSION, **state}, indent=2) + "\n")


def read_state(path: Path) -> dict[str, Any] | None:
    """The master's last written state, or None if there is none (or it is unreadable)."""
    try:
        state = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


class MasterLockError(PosthornError):
    """The master lock is held by a master that runs, or by one we cannot vouch for."""


class _QuietTimeout(logging.Filter):
    # A refused attempt is normal here and reported by us; flufl.lock logs it as an error.
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "timed out"


def take_master_lock(
    files: MasterFiles, *, lifetime: float, force: bool, log: logging.Logger
) -> Lock:
    """Take the master lock, breaking it if its holder is provably dead (or on force).

    The lock's own record says which host and pid hold it; the pid file adds the
    holder's start time.  A holder on this host whose pid is gone, is a zombie, or now
    names a process that started at another time (or, without a pid file, one that is
    not Posthorn) is dead: the lock is broken with a log line.  A holder that is alive
    refuses the start.  A holder we cannot check (another host, an unreadable lock)
    refuses too, unless ``force`` says a person checked.
    """
    files.lock.parent.mkdir(parents=True, exist_ok=True)
    flufl_log = logging.getLogger("flufl.lock")
    if not any(isinstance(f, _QuietTimeout) for f in flufl_log.filters):
        flufl_log.addFilter(_QuietTimeout())
    for _ in range(3):
        lock = Lock(str(files.lock), lifetime=timedelta(seconds=lifetime))
        try:
            lock.lock(timeout=timedelta(0))
            return lock
        except TimeOutError:
            pass
        holder, verdict = _judge_holder(files, lock)
        if verdict == "alive":
            raise MasterLockError(
                f"Posthorn is already running: {holder} holds {files.lock}; "
                "use 'posthorn stop' or 'posthorn restart'"
            )
        if verdict == "unknown" and not force:
            raise MasterLockError(
                f"the master lock {files.lock} is held by {holder}, which cannot be checked "
                "from here; if no master runs, start with --force to break the lock"
            )
        log.warning("breaking the master lock %s held by %s (%s)", files.lock, holder, verdict)
        _break(files.lock)
    raise MasterLockError(f"could not take the master lock {files.lock}")


def _judge_holder(files: MasterFiles, lock: Lock) -> tuple[str, str]:
    """Describe the lock's holder and say "alive", "unknown" or why it is dead."""
    try:
        hostname, pid, _ = lock.details
    except NotLockedError:
        return "nobody (the lock file is unreadable or was just released)", "unknown"
    holder = f"pid {pid} on {hostname}"
    if hostname != lock.hostname:
        return holder, "unknown"
    if not _exists(pid):
        return holder, "that process is gone"
    recorded = read_pid_file(files.pid)
    if recorded is not None and recorded.pid == pid:
        if ProcessId(pid, recorded.start).alive():
            return holder, "alive"
        return holder, f"pid {pid} now belongs to a process that started later"
    # No pid file of that master (it died before writing one, or someone removed it):
    # the command line tells a Posthorn process from whatever reuses the pid now.
    command = _command_line(pid)
    if command is None:
        return holder, "unknown"
    if "posthorn" in command:
        return holder, "alive"
    return holder, f"pid {pid} now runs {command!r}"


def _command_line(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def _break(lock_path: Path) -> None:
    """Remove the lock file and the claim file it names (flufl.lock's layout)."""
    try:
        claim = lock_path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        claim = ""
    lock_path.unlink(missing_ok=True)
    # The content names the holder's claim file; remove only a name of that shape.
    if claim.startswith(f"{lock_path}|") and "/" not in claim[len(str(lock_path)) :]:
        Path(claim).unlink(missing_ok=True)
