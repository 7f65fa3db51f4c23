"""Volume and issue numbers, kept on the list's row (``volume``, ``next_digest_number``).

A new volume starts when ``digest_volume_frequency`` says the period of the last
digest is over (a new year, quarter, month, ISO week or day), or on request
(``posthorn digests --bump``), and its issues count from 1.  The numbers are taken
in one transaction with the row locked, so two senders never print the same issue.
These columns are read-only list attributes, written only here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.orm import Session

from posthorn.database.prepared import driver_transaction
from posthorn.model.base import SessionFactory
from posthorn.model.lists import MailingListRow

__all__ = ["bump_volume", "next_issue", "period"]

_PERIODS: dict[str, Callable[[datetime], tuple[int, ...]]] = {
    "yearly": lambda when: (when.year,),
    "quarterly": lambda when: (when.year, (when.month - 1) // 3),
    "monthly": lambda when: (when.year, when.month),
    "weekly": lambda when: tuple(when.isocalendar())[:2],
    "daily": lambda when: (when.year, when.month, when.day),
}


def period(frequency: str, when: datetime) -> tuple[int, ...]:
    """The period ``when`` falls in, for ``digest_volume_frequency``."""
    return _PERIODS[frequency](when)


def _row(session: Session, list_id: str) -> MailingListRow:
    query = select(MailingListRow).where(MailingListRow.list_id == list_id).with_for_update()
    row = session.scalar(query)
    if row is None:
        raise LookupError(f"no such list: {list_id}")
    return row


# Built once: a list without digest members numbers an issue every dozen posts or so,
# and building the statements cost more than running them.
_LIST = MailingListRow
_KEY = _LIST.list_id == bindparam("key")
_VOLUME = select(_LIST.volume).where(_KEY).with_for_update()
_NUMBER = select(_LIST.next_digest_number).where(_KEY)
_SENT_AT = select(_LIST.digest_last_sent_at).where(_KEY)
_TAKE = (
    update(_LIST)
    .where(_KEY)
    .values(volume=bindparam("new_volume"), next_digest_number=bindparam("new_number"),
            digest_last_sent_at=bindparam("sent_at"))
)  # fmt: skip


@lru_cache(maxsize=8)
def _sent_at(dialect: Dialect) -> Callable[[Any], datetime | None]:
    """What Core makes of the driver's ``digest_last_sent_at`` (an aware UTC datetime)."""
    column_type = _LIST.__table__.c.digest_last_sent_at.type
    process = column_type.dialect_impl(dialect).result_processor(dialect, None)
    return process if process is not None else (lambda value: value)


def next_issue(engine: Engine, list_id: str, frequency: str, now: datetime) -> tuple[int, int]:
    """Take the next (volume, issue) for a digest sent at ``now``.

    Run on the driver's cursor (``database/prepared.py``): numbering an issue changes
    no setting, so what runners cache stays valid (the message path reads no digest
    number from a cached list), and a session's set-up and commit cost more than the
    four statements.
    """
    with driver_transaction(engine) as transaction:
        values = {"key": list_id}
        volume = transaction.scalar(_VOLUME, values)  # and the row is locked
        if volume is None:
            raise LookupError(f"no such list: {list_id}")
        issue = int(transaction.scalar(_NUMBER, values))
        last = _sent_at(engine.dialect)(transaction.scalar(_SENT_AT, values))
        if last is not None and period(frequency, last) != period(frequency, now):
            volume, issue = volume + 1, 1
        taken = {"key": list_id, "new_volume": volume, "new_number": issue + 1, "sent_at": now}
        transaction.execute(_TAKE, taken)
        return int(volume), issue


def bump_volume(sessions: SessionFactory, list_id: str) -> int:
    """Start a new volume now; its first digest is issue 1.  The new volume number."""
    with sessions() as session:
        row = _row(session, list_id)
        row.volume += 1
        row.next_digest_number = 1
        return row.volume
