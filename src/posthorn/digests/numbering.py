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

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from posthorn.database.changes import PER_POST
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
_NUMBERS = (
    select(_LIST.volume, _LIST.next_digest_number, _LIST.digest_last_sent_at)
    .where(_LIST.list_id == bindparam("key"))
    .with_for_update()
)
_TAKE = (
    update(_LIST)
    .where(_LIST.list_id == bindparam("key"))
    .values(volume=bindparam("new_volume"), next_digest_number=bindparam("new_number"),
            digest_last_sent_at=bindparam("sent_at"))
)  # fmt: skip


def next_issue(
    sessions: SessionFactory, list_id: str, frequency: str, now: datetime
) -> tuple[int, int]:
    """Take the next (volume, issue) for a digest sent at ``now``."""
    with sessions() as session:
        # Numbering an issue changes no setting: what runners cache stays valid (the
        # message path reads no digest number from a cached list).  Three columns and
        # no ORM object: loading the whole list row was most of the cost.
        connection = session.connection(execution_options={PER_POST: True})
        found = connection.execute(_NUMBERS, {"key": list_id}).first()
        if found is None:
            raise LookupError(f"no such list: {list_id}")
        volume, issue, last = found
        if last is not None and period(frequency, last) != period(frequency, now):
            volume, issue = volume + 1, 1
        taken = {"key": list_id, "new_volume": volume, "new_number": issue + 1, "sent_at": now}
        connection.execute(_TAKE, taken)
        return volume, issue


def bump_volume(sessions: SessionFactory, list_id: str) -> int:
    """Start a new volume now; its first digest is issue 1.  The new volume number."""
    with sessions() as session:
        row = _row(session, list_id)
        row.volume += 1
        row.next_digest_number = 1
        return row.volume
