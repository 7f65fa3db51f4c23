"""Runner classes for the tests, configured by dotted path in ``[runner.NAME] class``.

They record what they do in files under ``[paths] var_dir`` so a test, in another
process, can wait for the evidence: ``NAME-started.jsonl`` (one line per process start,
with its slice and how many objects it inherited frozen from the master) and
``NAME-processed.jsonl`` (one line per processed entry).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from email.message import Message
from pathlib import Path
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.runners.base import ExitCode, RetryLater, Runner, ServiceRunner
from posthorn.site import Site


def _append(path: Path, record: dict[str, Any]) -> None:
    # One write per line, in append mode: lines from several processes never interleave.
    with open(path, "a", encoding="utf-8") as fp:
        fp.write(json.dumps(record) + "\n")


def _record_start(runner: Runner | ServiceRunner) -> None:
    var_dir = runner.site.config.path("var_dir")
    record = {
        "pid": os.getpid(),
        "slice": runner.slice,
        "count": runner.count,
        "frozen": gc.get_freeze_count(),
    }
    _append(var_dir / f"{runner.name}-started.jsonl", record)


class Recorder(Runner):
    """Records every entry; a subject with "fail" raises, "retry" or "back off" retries
    ("retry once": only the first time).

    ``msgdata["hold"]`` names a file: the runner announces the entry in
    ``NAME-began.jsonl`` and waits (up to 20 s) until that file exists before finishing,
    so a test can signal the runner while an entry is in hand.  ``msgdata["pause"]``
    is seconds to spend on the entry, so that several processes share a queue's work.
    """

    def run(self) -> ExitCode:
        _record_start(self)
        return super().run()

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        var_dir = self.site.config.path("var_dir")
        subject = str(msg["subject"] or "")
        if "hold" in msgdata:
            _append(var_dir / f"{self.name}-began.jsonl", {"subject": subject})
            deadline = time.monotonic() + 20
            while not Path(msgdata["hold"]).exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        time.sleep(float(msgdata.get("pause", 0)))
        if "fail" in subject:
            raise ValueError(f"asked to fail: {subject}")
        if "retry" in subject and not ("once" in subject and msgdata.get("retries")):
            raise RetryLater("asked to retry", delay=5)
        if "back off" in subject:
            raise RetryLater("asked to back off")
        record = {
            "pid": os.getpid(),
            "slice": self.slice,
            "subject": subject,
            "list": None if mlist is None else mlist.list_id,
        }
        _append(var_dir / f"{self.name}-processed.jsonl", record)


class CrashAtStart(Runner):
    """Crashes as soon as it runs: a crash loop for the master to contain."""

    def run(self) -> ExitCode:
        _record_start(self)
        raise RuntimeError("crashing at start, as configured")


class BadConfig(Runner):
    """Exits at once saying its configuration is wrong."""

    def run(self) -> ExitCode:
        _record_start(self)
        self.log.error("pretending the configuration is wrong")
        return ExitCode.CONFIG


class Idle(ServiceRunner):
    """A service that serves nothing until it is told to stop."""

    async def serve(self, stopping: asyncio.Event) -> None:
        _record_start(self)
        await stopping.wait()
        self.log.info("service stopping")


class CrashOnCue(ServiceRunner):
    """Crashes when ``NAME-crash`` appears in the var dir (once per file), or at once
    while ``NAME-crash-always`` exists: crashes a test spreads over time, or a loop."""

    async def serve(self, stopping: asyncio.Event) -> None:
        _record_start(self)
        var_dir = self.site.config.path("var_dir")
        if (var_dir / f"{self.name}-crash-always").exists():
            raise RuntimeError("crashing at start, as told")
        cue = var_dir / f"{self.name}-crash"
        while not stopping.is_set():
            if cue.exists():
                cue.unlink()
                raise RuntimeError("crashing on cue")
            await asyncio.sleep(0.02)


class NotARunner:
    """A class that is not a runner, for the master's start-up check."""


class ListsAway:
    """A list manager whose directory is out of reach for now: every lookup fails."""

    @classmethod
    def from_site(cls, site: Site) -> ListsAway:
        return cls()

    def get(self, name: str) -> IMailingList | None:
        raise ConnectionError("the list directory is out of reach")


class NoLists:
    """A list manager that knows no lists, so every list_id names a vanished list."""

    @classmethod
    def from_site(cls, site: Site) -> NoLists:
        return cls()

    def get(self, name: str) -> IMailingList | None:
        return None
