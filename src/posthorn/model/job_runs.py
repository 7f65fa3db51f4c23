"""When each site-wide periodic job last ran, kept where every host of the site reads it.

One row per job name (``evict``, ``bounce-sweep``, ...) with the time its last run began.
It lives in the message slice's database, beside the advisory locks of ``site_lock``:
the host that holds a job's lock reads the row, runs the job if it is due and writes
the row before letting go, so the next host to take the lock finds it not due.  A
file on one host's disk could not tell another host that the job has just run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from posthorn.model.base import MessageBase, SessionFactory, UTCDateTime

__all__ = ["JobRunRow", "JobRuns"]


class JobRunRow(MessageBase):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobRuns:
    """Reads and writes the start times; each method is one short transaction."""

    def __init__(self, session: SessionFactory) -> None:
        self._session = session

    def last(self, name: str) -> datetime | None:
        with self._session() as session:
            return session.scalar(select(JobRunRow.started_at).where(JobRunRow.name == name))

    def mark(self, name: str, started_at: datetime) -> None:
        with self._session() as session:
            row = session.get(JobRunRow, name)
            if row is None:
                session.add(JobRunRow(name=name, started_at=started_at))
            else:
                row.started_at = started_at
