"""Starting and stopping real masters for tests and benches, and forking a child.

Every integration test runs the real ``posthorn start --foreground`` in a temporary
var dir on free loopback ports; this is the one place that knows how.  Tests of state
kept across a fork (as a runner forked from the master keeps it) run a job in a forked
child with ``in_child``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

STOP_DEADLINE = 15.0
# How long a master may take to greet, for every test and bench that starts one: it
# imports everything, upgrades the schema in a child and forks its runners, which took
# over 30 s in a loaded test run.  Polled, so a quick start costs nothing.
START_DEADLINE = 60.0
# Test runners, rules and handlers are named by dotted paths under tests/, so the
# master and its runners must be able to import them.
REPO = Path(__file__).resolve().parent.parent


def in_child(job: Callable[[], str]) -> str:
    """What ``job`` returns when run in a forked child; the child failing fails the test."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read)
            os.write(write, job().encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with os.fdopen(read) as pipe:
        return pipe.read()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def posthorn_command() -> list[str]:
    script = Path(sys.executable).parent / "posthorn"
    found = str(script) if script.exists() else shutil.which("posthorn")
    assert found, "the posthorn console script is not installed"
    return [found]


def start_master(
    site_file: Path,
    cwd: Path,
    output: int | IO[bytes] | None = subprocess.PIPE,
    *options: str,
) -> subprocess.Popen[bytes]:
    """A foreground master for ``site_file`` (``options`` to ``start``, e.g. --force);
    $POSTHORN_CONFIG must not override it."""
    env = {key: value for key, value in os.environ.items() if key != "POSTHORN_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    stderr = subprocess.STDOUT if output == subprocess.PIPE else output
    return subprocess.Popen(
        [*posthorn_command(), "-C", str(site_file), "start", "--foreground", *options],
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=stderr,
    )


def runners_started(var_dir: Path, master_pid: int) -> bool:
    """Whether master ``master_pid`` has forked each of its runners at least once.

    Its LMTP runner may greet (the master holds the port) before the master has
    written the state file naming the runners forked after it.
    """
    try:
        state = json.loads((var_dir / "run" / "master.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    if state.get("master", {}).get("pid") != master_pid:
        return False
    return all(row.get("started") for row in state.get("runners", []))


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_DEADLINE)
    if process.stdout is not None:
        process.stdout.close()


def wait_for_lmtp(
    port: int, process: subprocess.Popen[bytes] | None = None, deadline: float = START_DEADLINE
) -> None:
    """Return once an LMTP server greets on ``port`` (the site's master is up).

    Raises RuntimeError if ``process`` (the master) exits first or ``deadline`` passes.
    """
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the master exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(512).startswith(b"220"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no LMTP greeting on port {port} after {deadline} s")
