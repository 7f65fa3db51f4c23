"""The task runner: periodic housekeeping, each job at its own interval, once per site.

The jobs (``posthorn.periodic``) are ``evict`` (expired pending requests), ``digests``
(periodic digests), ``reminders`` (held messages waiting too long) and ``prune`` (old
delivery records, bounce scores and autoresponse records); ``[runner.task]
NAME_interval`` sets how often each runs, and ``0s`` switches a job off.  Instance 0
runs them between entries, through the base's ``periodic`` hook.  Each job runs under
its site lock (``posthorn.site_lock``, lock ``task.NAME``), and when it last began is
kept in the database: with a task runner on every host of a site, a due job runs on
one of them, once, and a restart does not run every job again at once.  A job that
fails is logged and tried again at its next interval.

The queue ``task`` takes entries with ``job: NAME`` to run a job now (in any slice),
under the same lock.  Notices (digests, reminders) go to queue ``virgin``.
"""

from __future__ import annotations

import functools
import time
from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.periodic import JOBS, PeriodicJobs
from posthorn.runners.aside import run_aside
from posthorn.runners.base import Runner
from posthorn.site import Site
from posthorn.site_lock import SiteLocks

__all__ = ["TaskRunner"]


class TaskRunner(Runner):
    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        self.jobs = PeriodicJobs(site, self._send, log=self.log)
        self.intervals = {job: self.section.get_float(key) for job, key in JOBS.items()}
        self.locks = SiteLocks.from_site(site)
        # job -> monotonic time before which the database need not be asked again.
        self._next: dict[str, float] = {}

    def _send(self, msg: Message, msgdata: dict[str, Any]) -> None:
        self.enqueue("virgin", msg, msgdata)

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        job = str(msgdata.get("job") or "")
        with self.locks.hold(f"task.{job}", wait=True):
            self.log.info("%s (asked for): %s", job, self.jobs.run(job))

    def periodic(self) -> float | None:
        if self.slice != 0:
            return None
        waits: list[float] = []
        for job, interval in self.intervals.items():
            if interval <= 0:
                continue
            if time.monotonic() >= self._next.get(job, 0.0):
                run = functools.partial(self._run, job)
                due = functools.partial(self.locks.run_due, f"task.{job}", interval, run, self.log)
                wait = run_aside(self.site, due)
                self._next[job] = time.monotonic() + wait
            waits.append(self._next[job] - time.monotonic())
        return min(waits) if waits else None

    def _run(self, job: str) -> None:
        try:
            self.log.info("%s: %s", job, self.jobs.run(job))
        except Exception:
            # Nothing else would catch it, and one failing job must not stop the others.
            self.log.exception("%s failed; trying again at its next interval", job)
