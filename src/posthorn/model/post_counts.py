"""Which post got which number: the post counter's memory, per list and Message-ID.

A pipeline entry can be redone (its runner was killed after the counter and before the
entry was finished); the redone post must keep its number, not take the next one.  So
each count records the Message-ID-Hash with the number it gave, and a message counted
before gets its recorded number again.  Only recent numbers need remembering: a redo
follows its first attempt within minutes, so rows older than ``KEEP`` posts are pruned.
Rows name their list by list-id, with no foreign key, like member rows.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import String, Table, bindparam, delete, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.model.base import ListBase

__all__ = ["KEEP", "PostCountRow", "forget", "recorded", "remember"]

# How many of a list's latest numbers stay recognisable; pruned every PRUNE_EVERY posts.
KEEP = 1000
PRUNE_EVERY = 100


class PostCountRow(ListBase):
    __tablename__ = "post_counts"

    list_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    message_id_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    post_number: Mapped[int] = mapped_column()


_TABLE = cast(Table, PostCountRow.__table__)
# Built once: these run for every post, and a statement built afresh is compiled afresh
# (or at least its cache key computed).
_RECORDED = select(_TABLE.c.post_number).where(
    _TABLE.c.list_id == bindparam("list_id"),
    _TABLE.c.message_id_hash == bindparam("message_id_hash"),
)
_REMEMBER = insert(_TABLE)


def recorded(session: Session, list_id: str, message_id_hash: str) -> int | None:
    """The number this message got on this list, or None if it was never counted."""
    params = {"list_id": list_id, "message_id_hash": message_id_hash}
    return session.scalar(_RECORDED, params)


def remember(session: Session, list_id: str, message_id_hash: str, post_number: int) -> None:
    """Record the number given; a second record of one message fails on the primary key."""
    # A plain INSERT rather than an object added and flushed: nothing reads the row back.
    params = {"list_id": list_id, "message_id_hash": message_id_hash, "post_number": post_number}
    session.execute(_REMEMBER, params)
    if post_number % PRUNE_EVERY == 0:
        session.execute(
            delete(PostCountRow).where(
                PostCountRow.list_id == list_id, PostCountRow.post_number <= post_number - KEEP
            )
        )


def forget(session: Session, list_id: str) -> None:
    """Drop a list's records (the list is being deleted)."""
    session.execute(delete(PostCountRow).where(PostCountRow.list_id == list_id))
