"""Site-wide locks: one holder of a named job across every host of a site.

A site that outgrows one machine runs the same runners on several hosts, all on one
PostgreSQL database.  Work that must happen once per site (a periodic job, sending a
list's digest) takes the lock of its name first.  On PostgreSQL that is a
session-level advisory lock (``pg_try_advisory_lock`` / ``pg_advisory_lock``) on a
connection of its own, held for the job and given back with ``pg_advisory_unlock``;
if the holder dies, its connection closes and the server lets go.  The key is a
64-bit hash of the job's name and the database schema, so it is the same on every host
and two sites in one database (each in its own schema) never share a lock.  On SQLite,
a site is one host by definition, and an ``flock`` on ``lock_dir/site-NAME.lock``
does the same among its processes.

A wait for a lock another host holds goes in turns of ``WAIT_TURN`` (the server's
``lock_timeout``): between turns it looks whether this process was asked to stop
(``posthorn.stopping``) and then gives up with ``StopRequested``, so a runner waiting
while another host delivers the same post stops at once, its entry left for the next
start.  The lock is still handed over the moment it is let go, as a plain wait would
have it; each turn that ends without it leaves an ERROR "canceling statement due to
lock timeout" in the server's log.

``run_due`` adds the clock: under the lock it reads when the job last began
(``model.job_runs``, in the same database), runs it only if ``interval`` has passed,
and records the start before letting go, so however many hosts ask, each due run
happens once.

Reads: ``[database]`` (the message slice's engine), ``[paths] lock_dir``.  Writes: the
``job_runs`` table; lock files in ``lock_dir`` on SQLite.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from posthorn import stopping
from posthorn.model.base import utc_now
from posthorn.model.job_runs import JobRuns

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["SiteLocks", "lock_key"]

# The slice whose database holds the locks and the job_runs table.
SLICE = "message"
# After a failure to reach the database, how soon a due job is tried again.
RETRY_AFTER = 60.0
# How long one turn of a wait for a lock may block (seconds): the longest a stop asked
# for meanwhile waits to be seen.
WAIT_TURN = 0.5
# SQLSTATE lock_not_available: a turn ended without the lock (lock_timeout).
LOCK_NOT_AVAILABLE = "55P03"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def lock_key(name: str, namespace: str = "") -> int:
    """The signed 64-bit advisory-lock key of ``name``: the same on every host."""
    digest = hashlib.sha256(f"posthorn:{namespace}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SiteLocks:
    """The site's named locks and the clock of its periodic jobs."""

    def __init__(self, engine: Engine, runs: JobRuns, lock_dir: Path) -> None:
        self._engine = engine
        self._runs = runs
        self._lock_dir = lock_dir
        self._namespace: str | None = None

    @classmethod
    def from_site(cls, site: Site) -> SiteLocks:
        databases = site.databases
        return cls(
            databases.engine(SLICE),
            JobRuns(databases.session_factory(SLICE)),
            site.config.path("lock_dir"),
        )

    @property
    def shared(self) -> bool:
        """Whether the locks reach other hosts (PostgreSQL), not only this one."""
        return self._engine.dialect.name == "postgresql"

    @contextmanager
    def hold(self, name: str, *, wait: bool = False) -> Iterator[bool]:
        """Hold the lock ``name`` for the block; yields False if another holds it.

        With ``wait``, blocks until the lock is free and always yields True.
        """
        if self.shared:
            with self._advisory(name, wait) as (held, _):
                yield held
        else:
            with self._file_lock(name, wait) as held:
                yield held

    @contextmanager
    def holding(self, name: str) -> Iterator[Connection | None]:
        """``hold(name, wait=True)``, yielding on PostgreSQL the autocommit connection
        that holds the lock, so the holder's statements need no session of their own
        (its set-up, BEGIN and COMMIT cost round trips); None on SQLite."""
        if not self.shared:
            with self._file_lock(name, True):
                yield None
            return
        with self._advisory(name, True) as (_, connection):
            yield connection

    def run_due(
        self, name: str, interval: float, job: Callable[[], object], log: logging.Logger
    ) -> float:
        """Run ``job`` if no host ran it in the last ``interval`` seconds; seconds to wait.

        Another host running it now, or the database out of reach, costs this turn
        only: the answer is when to ask again.  What ``job`` raises is the caller's.
        """
        ran = False
        try:
            with self.hold(name) as held:
                last = self._runs.last(name)
                now = utc_now()
                if last is not None and now - last < timedelta(seconds=interval):
                    log.debug("site job %s: not due; it last began at %s", name, last)
                    return (last + timedelta(seconds=interval) - now).total_seconds()
                if not held:
                    log.debug("site job %s: running on another host", name)
                    return min(interval, RETRY_AFTER)
                log.debug("site job %s: running it here", name)
                ran = True
                job()
                self._runs.mark(name, now)
                return interval
        except SQLAlchemyError:
            if ran:
                raise
            log.exception("%s: cannot take the site lock or read when it last ran", name)
            return min(interval, RETRY_AFTER)

    @contextmanager
    def _advisory(self, name: str, wait: bool) -> Iterator[tuple[bool, Connection]]:
        # Autocommit: the lock belongs to the session, and no transaction stays open
        # on the connection for the length of the job.
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        # Until the lock is known to be free again, the connection may hold it.
        settled = False
        try:
            key = lock_key(name, self._schema(connection))
            query = text("SELECT pg_try_advisory_lock(:key)")
            held = bool(connection.execute(query, {"key": key}).scalar())
            if wait and not held:
                held = _wait_for(connection, key, name)
            settled = not held
            try:
                yield held, connection
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    settled = True
        finally:
            if settled:
                connection.close()
            else:
                # A connection that may still hold the lock must never go back to the
                # pool: closed for good, the server lets the lock go.
                connection.invalidate()
                with contextlib.suppress(SQLAlchemyError):
                    connection.close()

    def _schema(self, connection: Connection) -> str:
        if self._namespace is None:
            self._namespace = str(connection.execute(text("SELECT current_schema()")).scalar())
        return self._namespace

    @contextmanager
    def _file_lock(self, name: str, wait: bool) -> Iterator[bool]:
        self._lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._lock_dir / f"site-{_SAFE_NAME.sub('_', name)}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
            except BlockingIOError:
                held = False
            yield held
        finally:
            os.close(fd)  # releases the flock


def _wait_for(connection: Connection, key: int, name: str) -> bool:
    """Wait for the advisory lock ``key`` in turns, giving up when a stop is asked for.

    Returns True once the lock is held; raises StopRequested instead of waiting on.
    """
    connection.execute(
        text("SELECT set_config('lock_timeout', :turn, false)"),
        {"turn": f"{round(WAIT_TURN * 1000)}ms"},
    )
    try:
        while not stopping.requested():
            try:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                return True
            except OperationalError as error:
                if _sqlstate(error) != LOCK_NOT_AVAILABLE:
                    raise
        raise stopping.StopRequested(f"stopped while waiting for the site lock {name}")
    finally:
        connection.execute(text("RESET lock_timeout"))


def _sqlstate(error: OperationalError) -> str | None:
    """The SQLSTATE of a driver's error (psycopg 3 and psycopg2 name it differently)."""
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return str(code) if code else None
