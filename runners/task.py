"""The task runner: periodic housekeeping, each job at its own interval.

The jobs (``posthorn.periodic``) are ``evict`` (expired pending requests), ``digests``
(periodic digests), ``reminders`` (held messages waiting too long) and ``prune`` (old
delivery records, bounce scores and autoresponse records); ``[runner.task]
NAME_interval`` sets how often each runs, and ``0s`` switches a job off.  Instance 0
runs them between entries, through the base's ``periodic`` hook.  When each job last
ran is kept in ``data_dir/task.json``, so a restart does not run every job again at
once.  A job that fails is logged and tried again at its next interval.

The queue ``task`` takes entries with ``job: NAME`` to run a job now (in any slice).
Notices (digests, reminders) go to queue ``virgin``.
"""

from __future__ import annotations

import json
import os
import time
from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.periodic import JOBS, PeriodicJobs
from posthorn.runners.base import Runner
from posthorn.site import Site

__all__ = ["TaskRunner"]


class TaskRunner(Runner):
    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        self.jobs = PeriodicJobs(site, self._send, log=self.log)
        self.intervals = {job: self.section.get_float(key) for job, key in JOBS.items()}
        self.state_file = site.config.path("data_dir") / "task.json"
        self.last_run = self._load_state()

    def _send(self, msg: Message, msgdata: dict[str, Any]) -> None:
        self.enqueue("virgin", msg, msgdata)

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        job = str(msgdata.get("job") or "")
        self.log.info("%s (asked for): %s", job, self.jobs.run(job))

    def periodic(self) -> float | None:
        if self.slice != 0:
            return None
        now = time.time()
        waits: list[float] = []
        for job, interval in self.intervals.items():
            if interval <= 0:
                continue
            due = self.last_run.get(job, 0.0) + interval
            if due <= now:
                self._run(job)
                self.last_run[job] = now
                self._save_state()
                due = now + interval
            waits.append(due - time.time())
        return min(waits) if waits else None

    def _run(self, job: str) -> None:
        try:
            self.log.info("%s: %s", job, self.jobs.run(job))
        except Exception:
            # Nothing else would catch it, and one failing job must not stop the others.
            self.log.exception("%s failed; trying again at its next interval", job)

    def _load_state(self) -> dict[str, float]:
        try:
            data = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))}

    def _save_state(self) -> None:
        partial = self.state_file.with_suffix(".json.tmp")
        self.state_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial.write_text(json.dumps(self.last_run))
        os.replace(partial, self.state_file)
