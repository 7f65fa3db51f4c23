"""The news gateway's watermarks in the database, for a site whose hosts share it.

The watermark of a list is the number of the last article of its group taken in
(``posthorn.news``).  The poll runs under the site lock ``nntp-poll`` on whichever
host's turn it is, so the next poll, maybe on another host, must read the number the
last one wrote: on PostgreSQL it is a row of the message database, not a file on one
host's disk.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from posthorn.interfaces.lists import IMailingList
from posthorn.model.base import MessageBase, SessionFactory

__all__ = ["DatabaseWatermarks", "NewsWatermarkRow"]


class NewsWatermarkRow(MessageBase):
    __tablename__ = "news_watermarks"

    list_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    newsgroup: Mapped[str] = mapped_column(String(255), primary_key=True)
    number: Mapped[int] = mapped_column(Integer())


class DatabaseWatermarks:
    """Watermarks as rows (``posthorn.news.IWatermarks``).

    ``earlier`` reads a list's watermark where it was kept before (the files of
    ``data_dir/nntp``) while the list has no row, so a site moving to the database goes
    on from its last article instead of starting again from the group's newest.
    """

    def __init__(
        self, sessions: SessionFactory, earlier: Callable[[IMailingList], int | None] | None = None
    ) -> None:
        self._sessions = sessions
        self._earlier = earlier

    def get(self, mlist: IMailingList) -> int | None:
        with self._sessions() as session:
            row = session.get(NewsWatermarkRow, (mlist.list_id, mlist.linked_newsgroup))
            number = None if row is None else row.number
        if number is None and self._earlier is not None:
            return self._earlier(mlist)
        return number

    def set(self, mlist: IMailingList, number: int) -> None:
        with self._sessions() as session:
            row = session.get(NewsWatermarkRow, (mlist.list_id, mlist.linked_newsgroup))
            if row is None:
                group = mlist.linked_newsgroup
                session.add(NewsWatermarkRow(list_id=mlist.list_id, newsgroup=group, number=number))
            else:
                row.number = number
