"""Digest posts in the database, for a site whose hosts share one PostgreSQL.

The pipeline runner of any host appends a list's posts and the digest runner of any
host sends them, so on such a site the posts waiting for a digest are rows in the
message database rather than a mailbox on one host's disk.  A row's ``issue`` is
empty while the post waits for the next issue; rotating is one UPDATE that gives every
waiting row the new issue's number, so a post committed before it is in this issue
and one committed after waits for the next, without a lock between the two sides.
Once an issue is queued its rows keep only their key (``issue`` set to ``sent``), so a
redone pipeline entry still finds its post appended; the last ``SEEN_KEEP`` keys of a
list are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import Message
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, Select, String, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from posthorn.digests.mailbox import SEEN_KEEP
from posthorn.interfaces.digests import IssueNumber
from posthorn.model.base import MessageBase, SessionFactory, UTCDateTime, utc_now
from posthorn.queues.flatten import message_to_bytes
from posthorn.queues.parsing import message_parser

__all__ = ["DatabaseDigests", "DigestPostRow"]

SENT = "sent"


class DigestPostRow(MessageBase):
    __tablename__ = "digest_posts"
    __table_args__ = (
        Index(None, "list_id", "post_key", unique=True),
        Index(None, "list_id", "issue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[str] = mapped_column(String(255))
    # The Message-ID-Hash; NULL for a post without a Message-ID (never a duplicate).
    post_key: Mapped[str | None] = mapped_column(String(64))
    issue: Mapped[str | None] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer())
    raw: Mapped[bytes] = mapped_column(LargeBinary())
    added_on: Mapped[datetime] = mapped_column(UTCDateTime())


def _issue_name(issue: IssueNumber) -> str:
    return f"{issue[0]:06d}-{issue[1]:06d}"


class DatabaseDigests:
    """The digest store as rows of the message database (``IDigestStore``)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def append(self, list_id: str, msg: Message, key: str = "") -> tuple[int, int]:
        raw = message_to_bytes(msg)
        row = {"list_id": list_id, "post_key": key or None, "issue": None, "size": len(raw),
               "raw": raw, "added_on": utc_now()}  # fmt: skip
        with self._sessions() as session:
            # One transaction: a post whose key is there already (a redone entry, on
            # this host or another, even at this moment) is skipped, not an error.
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            insert = dialect.insert(DigestPostRow).values(row).on_conflict_do_nothing()
            added = session.execute(insert.returning(DigestPostRow.id)).first() is not None
            gathered = session.scalar(self._size_query(list_id))
        return int(gathered or 0), len(raw) if added else 0

    @staticmethod
    def _size_query(list_id: str) -> Select[Any]:
        return select(func.coalesce(func.sum(DigestPostRow.size), 0)).where(
            DigestPostRow.list_id == list_id, DigestPostRow.issue.is_(None)
        )

    def size(self, list_id: str) -> int:
        with self._sessions() as session:
            return int(session.scalar(self._size_query(list_id)) or 0)

    def rotate(self, list_id: str, numbered: Callable[[], IssueNumber]) -> bool:
        if not self._waiting(list_id):
            return False
        name = _issue_name(numbered())
        with self._sessions() as session:
            session.execute(
                update(DigestPostRow)
                .where(DigestPostRow.list_id == list_id, DigestPostRow.issue.is_(None))
                .values(issue=name)
            )
        return True

    def discard(self, list_id: str, numbered: Callable[[], IssueNumber]) -> bool:
        taken: list[IssueNumber] = []

        def number() -> IssueNumber:
            taken.append(numbered())
            return taken[0]

        if not self.rotate(list_id, number):
            return False
        self.remove(list_id, taken[0])
        return True

    def _waiting(self, list_id: str) -> bool:
        query = select(DigestPostRow.id).where(
            DigestPostRow.list_id == list_id, DigestPostRow.issue.is_(None)
        )
        with self._sessions() as session:
            return session.scalar(query.limit(1)) is not None

    def pending(self, list_id: str) -> list[IssueNumber]:
        query = (
            select(DigestPostRow.issue)
            .where(DigestPostRow.list_id == list_id, DigestPostRow.issue.is_not(None))
            .where(DigestPostRow.issue != SENT)
            .distinct()
        )
        with self._sessions() as session:
            names = [str(name) for name in session.scalars(query)]
        return sorted((int(v), int(n)) for v, n in (name.split("-") for name in names))

    def read(self, list_id: str, issue: IssueNumber) -> list[Message]:
        query = (
            select(DigestPostRow.raw)
            .where(DigestPostRow.list_id == list_id, DigestPostRow.issue == _issue_name(issue))
            .order_by(DigestPostRow.id)
        )
        with self._sessions() as session:
            raws = list(session.scalars(query))
        posts = []
        for raw in raws:
            parser = message_parser()
            parser.feed(raw)
            posts.append(parser.close())
        return posts

    def remove(self, list_id: str, issue: IssueNumber) -> None:
        mine = (DigestPostRow.list_id == list_id, DigestPostRow.issue == _issue_name(issue))
        with self._sessions() as session:
            # Posts without a key can never be recognised again: nothing to keep.
            session.execute(delete(DigestPostRow).where(*mine, DigestPostRow.post_key.is_(None)))
            session.execute(update(DigestPostRow).where(*mine).values(issue=SENT, raw=b"", size=0))
            sent = (DigestPostRow.list_id == list_id, DigestPostRow.issue == SENT)
            oldest_kept = session.scalar(
                select(DigestPostRow.id).where(*sent).order_by(DigestPostRow.id.desc())
                .offset(SEEN_KEEP - 1).limit(1)
            )  # fmt: skip
            if oldest_kept is not None:
                session.execute(delete(DigestPostRow).where(*sent, DigestPostRow.id < oldest_kept))
