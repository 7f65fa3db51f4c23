"""The site's change stamp: what runners cache from the database stays valid until it moves.

A post reads the same rows again and again: the list's settings, the poster's
memberships and preferences, the bans, header matches and template URIs, the roster.
Each read is a query, and a post's queries were a third of its CPU.  So the runners keep
such answers per list (``StampedCache``) and throw them away when the stamp moves.

The stamp is a file (``[paths] data_dir``/``changes``) that grows by one byte after
every committed transaction that wrote a table other than the per-post ones (post
counters, held messages, bounce scores, pendings...), in any process of the site:
runners, REST, the command line, importers.  Reading it is one ``stat``; a reader
compares inode, size and modification time, so two changes within one clock tick still
differ.  The stamp moves after the commit, and a reader reads the stamp before the
rows, so a cached answer is never older than the stamp it is kept under.

Changes made behind Posthorn's back (SQL typed into the database) are not seen until
``MAX_AGE`` has passed, or the next change made through Posthorn.  The stamp is one
host's file: where the database is not SQLite, other hosts may change it, so answers
are kept at most ``SHARED_MAX_AGE`` (as list settings were before the stamp).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event

__all__ = [
    "MAX_AGE",
    "PER_POST",
    "SHARED_MAX_AGE",
    "ChangeStamp",
    "StampedCache",
    "take_pending",
    "watch_writes",
]

T = TypeVar("T")
log = logging.getLogger("posthorn.database")
#: Seconds a cached answer is kept at most, however still the stamp.
MAX_AGE = 60.0
#: The same where hosts share the database (anything but SQLite).
SHARED_MAX_AGE = 1.0
#: Tables written for posts as they pass: their changes do not invalidate any cache.
PER_POST_TABLES = frozenset(
    {
        "post_counts",
        "held_messages",
        "messages",
        "bounce_state",
        "autoresponses",
        "pendings",
        "job_runs",
        "delivery_records",
        "digest_posts",
        "news_watermarks",
    }
)
_WRITE = re.compile(
    r'^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)',
    re.IGNORECASE,
)
_FLAG = "posthorn.changed"
#: An execution option marking a write that only records a post passing (the post
#: counter's UPDATE of its list row): it leaves every cached answer valid.
PER_POST = "posthorn_per_post"
_pending = threading.local()


class ChangeStamp:
    """The stamp file: ``token()`` to compare, ``bump()`` after a change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: Moves of the stamp made by this process: a pinned token (``StampedCache.pinned``)
        #: is read again after one, so that work sees its own changes.
        self.bumps = 0

    def token(self) -> tuple[int, int, int] | None:
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (found.st_ino, found.st_size, found.st_mtime_ns)

    def bump(self) -> None:
        """Move the stamp.  The change is committed already: failing to say so (a stamp
        file another user made, a full disk) is logged, and caches elsewhere then hold
        their answers up to ``MAX_AGE``; the change itself stands."""
        self.bumps += 1
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, b".")
            finally:
                os.close(fd)
        except OSError as error:
            log.warning("cannot move the change stamp %s: %s", self.path, error)


def _after_execute(
    conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    found = _WRITE.match(statement)
    if found is None or found.group(1).lower() in PER_POST_TABLES:
        return
    if context is not None and context.execution_options.get(PER_POST):
        return
    conn.info[_FLAG] = True


def _on_commit(conn: Any) -> None:
    if conn.info.pop(_FLAG, False):
        _pending.changed = True


def _on_rollback(conn: Any) -> None:
    conn.info.pop(_FLAG, None)


def watch_writes(engine: Engine) -> None:
    """Note on the committing thread every transaction of ``engine`` that changed a table."""
    event.listen(engine, "after_cursor_execute", _after_execute)
    event.listen(engine, "commit", _on_commit)
    event.listen(engine, "rollback", _on_rollback)


def take_pending() -> bool:
    """Whether this thread committed a change since the last call (and forget it)."""
    changed = bool(getattr(_pending, "changed", False))
    _pending.changed = False
    return changed


class StampedCache:
    """Answers kept until the stamp moves or ``MAX_AGE`` passes; safe across threads.

    ``max_entries`` 0 keeps nothing: every ``get`` computes.
    """

    def __init__(
        self, stamp: ChangeStamp, max_entries: int = 65536, max_age: float = MAX_AGE
    ) -> None:
        self.stamp = stamp
        self.max_entries = max_entries
        self.max_age = max_age
        self._token: tuple[int, int, int] | None = None
        self._since = 0.0
        self._values: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        self._pin = threading.local()

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Read the stamp once for the lookups of one piece of work on this thread.

        A runner's entry looks up several answers (its list, the poster's roles, the
        templates...), each a ``stat`` of the stamp.  Read at the start of the work, the
        stamp still shows every change made before the work was picked up, which is
        the guarantee; a change this process makes meanwhile (``bump``) is seen too,
        as the stamp is then read again.
        """
        outer = getattr(self._pin, "token", None)
        self._pin.token = (self.stamp.bumps, self.stamp.token())
        try:
            yield
        finally:
            self._pin.token = outer

    def _current(self) -> tuple[int, int, int] | None:
        pin = getattr(self._pin, "token", None)
        if pin is None:
            return self.stamp.token()
        if pin[0] != self.stamp.bumps:
            pin = self._pin.token = (self.stamp.bumps, self.stamp.token())
        return pin[1]

    def get(
        self, key: Hashable, compute: Callable[[], T], keep: Callable[[T], bool] | None = None
    ) -> T:
        """The cached answer for ``key``, or ``compute()`` kept under the current stamp.

        ``keep`` may refuse to keep an answer (too large to hold between posts).
        """
        token = self._current()
        now = time.monotonic()
        with self._lock:
            if token != self._token or now - self._since > self.max_age:
                self._values.clear()
                self._token, self._since = token, now
            elif key in self._values:
                return self._values[key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            if self._token == token and self.max_entries and (keep is None or keep(value)):
                if len(self._values) >= self.max_entries:
                    self._values.clear()
                self._values[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
