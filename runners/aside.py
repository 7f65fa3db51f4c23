"""Site-wide jobs run by the clock (the bounce sweep, the news poll, the task runner's
jobs) in a short-lived child of the runner, so that the runner itself stays small.

A runner shares the master's heap page by page until it writes to a page, and running
Python code writes to the pages of every object it touches (reference counts, the
interpreter's specialised bytecode).  One site job walks the ORM, the SQL compiler and
the SQLite driver: some 13 MiB of the shared heap copied into the runner, kept for its
whole life though the job runs once every few minutes (``bench/memory_bench.py site``:
the bounce, nntp and task runners each at 19-21 MiB PSS, 6-8 MiB without).  Run in a
child that exits when the job is done, those pages go back at once.

Only under the master (``run_runner`` calls ``enable``) and only on the files queue
backend: a child cannot share the runner's broker connection, so on ``amqp`` the job
runs in the runner as before.  What a job changes is in the database or the queues,
never in the runner's memory, so nothing is lost when the child exits.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

from posthorn.queuing import queue_settings
from posthorn.site import Site

__all__ = ["enable", "run_aside"]

_enabled = False


def enable(on: bool = True) -> None:
    """Run site jobs in a child from now on (this process is a runner under the master)."""
    global _enabled
    _enabled = on


def run_aside(site: Site, job: Callable[[], float]) -> float:
    """``job()``, in a child process when enabled; its answer (seconds until due again).

    An error in the child is raised here as a RuntimeError naming it: the runner
    crashes and is restarted, as it would on the error itself.
    """
    if not _enabled or queue_settings(site.config).backend != "files":
        return job()
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read_fd)
        os._exit(_child(site, job, write_fd))
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        answer = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not answer.startswith("="):
        raise RuntimeError(f"site job failed in its own process: {answer or status}")
    return float(answer[1:])


def _child(site: Site, job: Callable[[], float], write_fd: int) -> int:
    """The child's part: new connections, the job, its answer down the pipe."""
    try:
        # The runner's wake-up pipe and database connections are the runner's.
        signal.set_wakeup_fd(-1)
        site.databases.after_fork()
        answer = f"={job()!r}"
        code = 0
    except BaseException as error:
        answer = f"{type(error).__name__}: {error}"
        code = 1
    os.write(write_fd, answer.encode()[:4096])
    return code
