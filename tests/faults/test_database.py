"""The database briefly unavailable: a private PostgreSQL cluster stopped mid-stream.

The site's ``[database] url`` names a cluster of its own (``initdb`` into a temporary
directory, run as the ``postgres`` user), so stopping it disturbs nobody else.  Posts
stream in over LMTP; the cluster stops (``pg_ctl stop -m fast``) for a few seconds and
starts again.  While it is down the LMTP runner answers 451 at RCPT (the MTA tries
again), and a queue runner whose database call fails sends its entry to retry rather
than to shunt.  Afterwards every accepted post reaches every member, nothing is in
``shunt`` or ``bad``, and no runner used up its restart allowance.

Skipped, with the step that failed, where no PostgreSQL server binaries are installed
or the cluster cannot be created and started (not root, no ``postgres`` user).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.faults.stack import LIST, POSTER, Poster, PostStream, build
from tests.processes import free_port
from tests.waiting import wait_for

POSTS = 40
OUTAGE_SECONDS = 5.0
# Longer than the LMTP runner remembers a list it found (LIST_CACHE_TTL, 1 s).
LIST_MEMORY = 2.0
QUEUE_RUNNERS = ("incoming", "pipeline", "outgoing", "retry", "virgin", "archive")
# Polled deadlines, generous for a loaded machine: they matter only when something is
# really stuck.  After the outage an entry may wait out a doubled database retry pause.
ARRIVE = 60.0
DELIVERED = 120.0


@dataclass
class Cluster:
    """A private PostgreSQL cluster: its binaries, data directory and port."""

    bin_dir: Path
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args: str) -> None:
        """Run a server program as the ``postgres`` user; fail with its output."""
        command = ["runuser", "-u", "postgres", "--", str(self.bin_dir / args[0]), *args[1:]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def init(self) -> None:
        self.run("initdb", "-D", str(self.root / "data"), "-A", "trust", "-U", "postgres",
                 "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.root / "data"), "-o", options,
                 "-l", str(self.root / "server.log"), "-w", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.root / "data"), "-m", mode, "-w", "stop")


def _server_bin_dir() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: [int(part) for part in p.parent.parent.name.split(".") if part.isdigit()],
    )
    return found[-1].parent if found else None


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bin_dir = _server_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("a private PostgreSQL cluster needs root and runuser")
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user to run a private PostgreSQL cluster")
    # Not under pytest's tmp_path: the postgres user must reach the directory, and the
    # server's socket path must stay short.
    root = Path(tempfile.mkdtemp(prefix="posthorn-pg-"))
    os.chown(root, account.pw_uid, account.pw_gid)
    server = Cluster(bin_dir, root, free_port())
    try:
        server.init()
        server.start()
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"cannot start a private PostgreSQL cluster: {error}")
    try:
        yield server
    finally:
        with contextlib.suppress(OSError, RuntimeError, subprocess.TimeoutExpired):
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def rcpt_reply(port: int) -> int:
    """The LMTP reply code to RCPT TO the list (no message is sent)."""
    with smtplib.LMTP("127.0.0.1", port, timeout=10) as lmtp:
        lmtp.ehlo()
        lmtp.mail(POSTER)
        code, _ = lmtp.rcpt(LIST)
        lmtp.rset()
        return code


def _all_running(state: dict[str, Any]) -> bool:
    runners = state.get("runners", [])
    return bool(runners) and all(r.get("state") == "running" for r in runners)


def test_database_down_for_a_while(tmp_path: Path, cluster: Cluster) -> None:
    stack = build(tmp_path, 3, database_url=cluster.url)
    paused: list[int] = []
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        stream = PostStream(poster, POSTS, pause=0.05)
        stream.start()
        wait_for(lambda: len(poster.accepted) >= POSTS // 4, "the first posts", ARRIVE)
        # Some entries must be on their way when the database goes: incoming pauses
        # while ten more posts queue up, and resumes once the cluster is down.
        paused += [pid for name, pid in stack.runner_pids().items() if name.startswith("incoming/")]
        for pid in paused:
            os.kill(pid, signal.SIGSTOP)
        wait_for(lambda: len(poster.accepted) >= POSTS // 2, "posts queued in incoming", ARRIVE)
        cluster.stop()
        down = time.monotonic()
        for pid in paused:
            os.kill(pid, signal.SIGCONT)
        replies: list[tuple[float, int]] = []
        while time.monotonic() - down < OUTAGE_SECONDS:
            replies.append((time.monotonic() - down, rcpt_reply(stack.lmtp_port)))
            time.sleep(0.5)  # probing the intake through the outage, every half second
        accepted_while_down = len(poster.accepted)
        cluster.start()
        stream.join(DELIVERED)
        assert stream.error is None and not stream.is_alive()
        outcome = stack.wait_delivered(poster.accepted, DELIVERED)
        # A runner restarting (or recycled when idle) is briefly not running; one given
        # up never runs again, and the assertion below says so.
        with contextlib.suppress(AssertionError):
            wait_for(lambda: _all_running(stack.state()), "every runner running", ARRIVE)
        runners = stack.state().get("runners", [])
        restarts = sum(int(r.get("restarts", 0)) for r in runners)
        retried = sum(stack.log(name).count("database unavailable") for name in QUEUE_RUNNERS)
        print(f"database down {OUTAGE_SECONDS:.0f}s: {len(poster.accepted)} posts "
              f"({accepted_while_down} accepted before the cluster came back), "
              f"RCPT replies while down {[code for _, code in replies]}, "
              f"{poster.retries} LMTP retries, "
              f"{outcome.expected - len(outcome.missing)}/{outcome.expected} delivered, "
              f"{outcome.duplicates} extra copies, "
              f"{retried} database retries by queue runners, "
              f"{restarts} runner restarts")  # fmt: skip
        # The LMTP runner remembers a list it found for a second (a burst of mail asks
        # the database once), so the first replies may still be 250: those posts are
        # queued and wait for the database like the ones already queued.
        assert {code for _, code in replies} <= {250, 451}
        assert [code for after, code in replies if after > LIST_MEMORY] == [451] * sum(
            after > LIST_MEMORY for after, _ in replies
        )
        assert 451 in {code for _, code in replies}
        assert poster.refused == {}
        assert sorted(set(poster.accepted)) == sorted(f"<p-{n}@example.net>" for n in range(POSTS))
        assert outcome.missing == []
        assert stack.queue_files("shunt") == [] and stack.queue_files("bad") == []
        assert runners and all(r.get("state") == "running" for r in runners), runners
        assert retried > 0
        assert restarts < 10
    finally:
        for pid in paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        stack.stop()
        stack.sink.stop()
