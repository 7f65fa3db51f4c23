"""The archive runner: feeds every archiver a list has switched on, each on its own.

Reads queue ``archive`` (filled by the ``to-archive`` handler), logs as
``posthorn.archive``, tuned in ``[runner.archive]``.  Each archiver is called in a
worker thread of its own, bounded by its ``[archiver.NAME] timeout``: a hung archiver
costs the runner that long, once, and never stalls the others (its thread is abandoned
as a daemon; archivers are idempotent, so a late success is harmless).

msgdata: ``archive_done`` (archivers that have the message; never called again for
it), ``archive_attempts`` ({archiver: failures}), ``archive_first_failure`` (epoch).
When an archiver fails the entry goes to the retry queue (``RetryLater``) after
``retry_base`` doubled per failure of the least-tried failing archiver, at most
``retry_max``; past ``retry_period`` since the first failure it is shunted with the
archivers' errors as the reason.  Outcomes go to ``$run_dir/archivers.json``.
"""

from __future__ import annotations

import copy
import threading
import time
from email.message import Message
from typing import Any

from posthorn.archivers.loading import enabled_archivers, for_list
from posthorn.archivers.status import ArchiveStatus
from posthorn.interfaces.archivers import IArchiver
from posthorn.interfaces.lists import IMailingList
from posthorn.runners.base import RetryLater, Runner
from posthorn.site import Site

__all__ = ["ArchiveFailed", "ArchiveRunner"]


class ArchiveFailed(Exception):
    """Archivers kept failing past ``retry_period``: the entry is shunted with this."""


class _Call(threading.Thread):
    """One archiver call; daemonic so that a hung archiver cannot keep the process alive."""

    def __init__(self, archiver: IArchiver, mlist: IMailingList, msg: Message) -> None:
        super().__init__(name=f"archive-{archiver.name}", daemon=True)
        self.archiver, self.mlist, self.msg = archiver, mlist, msg
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.archiver.archive_message(self.mlist, self.msg)
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"


class ArchiveRunner(Runner):
    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        self.archivers = enabled_archivers(site)
        self.retry_base = self.section.get_float("retry_base")
        self.retry_max = self.section.get_float("retry_max")
        self.retry_period = self.section.get_float("retry_period")
        self.status = ArchiveStatus(site.config.path("run_dir") / "archivers.json")

    def timeout(self, name: str) -> float:
        return self.site.config[f"archiver.{name}"].get_float("timeout")

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        if mlist is None:
            self.log.warning("an entry names no list; nothing to archive")
            return
        done = set(msgdata.get("archive_done") or ())
        pending = {n: a for n, a in for_list(self.archivers, mlist).items() if n not in done}
        if not pending:
            return
        errors = self.call_all(pending, mlist, msg)
        msgdata["archive_done"] = sorted(done | (set(pending) - set(errors)))
        self.status.record({name: errors.get(name) for name in pending})
        if errors:
            self._retry_or_shunt(msgdata, errors)

    def call_all(
        self, archivers: dict[str, IArchiver], mlist: IMailingList, msg: Message
    ) -> dict[str, str]:
        """Call every archiver at once; return the errors (timeouts included) by name."""
        started = time.monotonic()
        # Each archiver gets its own copy: one that changes the message must not change
        # what the others archive.
        calls = {name: _Call(a, mlist, copy.deepcopy(msg)) for name, a in archivers.items()}
        for call in calls.values():
            call.start()
        errors: dict[str, str] = {}
        for name, call in calls.items():
            limit = self.timeout(name)
            call.join(max(0.0, started + limit - time.monotonic()))
            if call.is_alive():
                errors[name] = f"timed out after {limit:g}s"
            elif call.error is not None:
                errors[name] = call.error
        for name, error in errors.items():
            self.log.warning("archiver %s failed on %s: %s", name, msg.get("message-id"), error)
        return errors

    def _retry_or_shunt(self, msgdata: dict[str, Any], errors: dict[str, str]) -> None:
        now = time.time()
        first = float(msgdata.setdefault("archive_first_failure", now))
        attempts: dict[str, int] = dict(msgdata.get("archive_attempts") or {})
        for name in errors:
            attempts[name] = int(attempts.get(name, 0)) + 1
        msgdata["archive_attempts"] = attempts
        reason = "; ".join(f"{name}: {error}" for name, error in sorted(errors.items()))
        if now - first >= self.retry_period:
            raise ArchiveFailed(f"gave up after {now - first:.0f}s: {reason}")
        fewest = min(attempts[name] for name in errors)
        delay = min(self.retry_base * 2 ** (fewest - 1), self.retry_max)
        raise RetryLater(reason, delay=delay)
