"""The databases behind the three data slices: engines, sessions and migrations.

``[database] url`` serves every slice unless ``user_url``, ``list_url`` or
``message_url`` names another database for that slice; slices sharing a URL share one
engine.  Sessions commit when their block ends normally and roll back on an error, so
a manager never leaves half a change behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from posthorn.config import Config, ConfigError
from posthorn.database.changes import ChangeStamp, take_pending, watch_writes
from posthorn.model.base import SLICES, SessionFactory

__all__ = ["SLICES", "Databases"]

_URL_KEYS = {"user": "user_url", "list": "list_url", "message": "message_url"}
# Long enough to ride out another runner's write burst, short enough to notice a hang.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers and one writer work at once; busy_timeout waits instead of failing.

    ``synchronous=NORMAL`` under WAL syncs at checkpoints instead of at every commit: a
    commit survives any crash of a process, and a power cut can lose only the last
    commits, never corrupt the file.  Each commit was a third of a post's pipeline
    time (the post counter), and what is on the message path is recoverable: the
    queue files, fsynced on their own, are the record of every accepted message.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _create_engine(url: URL, echo: bool) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    if _is_memory(url):
        # One shared connection, or every session would see its own empty database.
        engine = create_engine(
            url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Databases:
    """One site's engines and sessions, by slice (``user``, ``list``, ``message``)."""

    def __init__(self, config: Config) -> None:
        self._section = config["database"]
        self._engines: dict[str, Engine] = {}
        self._makers: dict[str, sessionmaker[Session]] = {}
        #: Moves after every committed change; what runners cache is kept under it.
        self.stamp = ChangeStamp(config.path("data_dir") / "changes")

    def _url(self, slice_: str) -> URL:
        # An empty per-slice key means "the same database as [database] url".
        key = _URL_KEYS[slice_] if self._section.get_str(_URL_KEYS[slice_]) else "url"
        try:
            return make_url(self._section.get_str(key))
        except ArgumentError as error:
            raise ConfigError(f"not a database URL: {error}", section="database", key=key) from None

    def urls(self, *, hide_password: bool = True) -> dict[str, str]:
        """Each slice's URL; passwords masked unless asked for (these get printed)."""
        return {
            slice_: self._url(slice_).render_as_string(hide_password=hide_password)
            for slice_ in SLICES
        }

    def engine(self, slice_: str) -> Engine:
        url = self._url(slice_)
        key = url.render_as_string(hide_password=False)
        if key not in self._engines:
            self._engines[key] = _create_engine(url, self._section.get_bool("echo"))
            watch_writes(self._engines[key])
        return self._engines[key]

    @contextmanager
    def session(self, slice_: str) -> Iterator[Session]:
        """A session on the slice's database: commit on success, roll back on error."""
        if slice_ not in self._makers:
            # Objects stay readable after commit: managers hand out snapshots built
            # inside the block, and nothing should reload behind a caller's back.
            self._makers[slice_] = sessionmaker(self.engine(slice_), expire_on_commit=False)
        with self._makers[slice_].begin() as session:
            yield session
        if take_pending():
            self.stamp.bump()

    def session_factory(self, slice_: str) -> SessionFactory:
        """What a manager keeps: call it to open a session on this slice."""
        if slice_ not in _URL_KEYS:
            raise ValueError(f"no data slice {slice_!r} (slices: {', '.join(SLICES)})")
        return partial(self.session, slice_)

    def upgrade(self) -> None:
        """Bring every slice's schema to the newest revision; quick when it is already."""
        from posthorn.database.migrating import upgrade_slice

        for slice_ in SLICES:
            upgrade_slice(self.engine(slice_), slice_)
        take_pending()
        self.stamp.bump()

    def connect_once(self) -> None:
        """Open and close a connection to each database: the dialect learns the server.

        Done by the master before forking (then ``close_connections``), so that every
        runner shares what it learnt instead of each writing it into pages of its own.
        """
        for slice_ in SLICES:
            with self.engine(slice_).connect():
                pass

    def close_connections(self) -> None:
        """Close every pooled connection, keeping the engines: nothing open to fork."""
        for engine in self._engines.values():
            engine.dispose()

    def after_fork(self) -> None:
        """In a forked child: new empty pools, never touching the parent's connections."""
        for engine in self._engines.values():
            engine.dispose(close=False)

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        self._makers.clear()
