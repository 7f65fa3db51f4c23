"""The post counter, the list manager's part that numbers posts, and its memory.

A list's next number is a column of its row; which post got which number is kept
here, per list and Message-ID.  A pipeline entry can be redone (its runner was killed
after the counter and before the entry was finished); the redone post must keep its
number, not take the next one.  So each count records the Message-ID-Hash with the
number it gave, and a message counted before gets its recorded number again.  Only
recent numbers need remembering: a redo follows its first attempt within minutes, so
rows older than ``KEEP`` posts are pruned.  Rows name their list by list-id, with no
foreign key, like member rows.

That is a transaction per post, and on a list whose subject shows no number (no
``%d``) nothing shows a post's number at all: there only the count matters.  So such
a post is counted from a block of numbers this process reserved ahead (``shown=False``),
as a database sequence with a cache does: one transaction moves ``post_id`` past the
whole block (the high-water mark, written before any number of the block is used),
and the block's numbers are handed out in memory.  A process killed with numbers left
leaves a gap; no number is ever handed out twice, and ``post_id`` never goes back
below a number handed out.  A block grows while posts come fast (doubling up to
``BLOCK_MAX``, from one on a quiet list, so a quiet list is counted exactly) and is
drawn from for ``BLOCK_TIME`` seconds at most; what is left is then given back
(``settle``: the pipeline runner does it between entries and when it stops), when no
one reserved after it, so ``post_id`` and ``last_post_at`` are exact again within
seconds of a burst.  A redone entry of such a post is counted again (its first count
left no record): one more gap, never a number twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, String, Table, bindparam, case, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.expression import ClauseElement

from posthorn import forks
from posthorn.database.changes import PER_POST
from posthorn.database.prepared import CoreStatements, Statements, driver_transaction
from posthorn.interfaces.lists import ListRef
from posthorn.interfaces.messages import message_id_hash
from posthorn.model.base import ListBase, SessionFactory, utc_now
from posthorn.model.lists import MailingListRow, list_id_of, no_such_list

__all__ = [
    "BLOCK_MAX",
    "BLOCK_TIME",
    "KEEP",
    "PostCountRow",
    "PostCounter",
    "forget",
    "recorded",
    "remember",
]

# How many of a list's latest numbers stay recognisable; pruned every PRUNE_EVERY posts.
KEEP = 1000
PRUNE_EVERY = 100
# The largest block of numbers reserved at once, and how long one is drawn from.
BLOCK_MAX = 64
BLOCK_TIME = 2.0


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
_PRUNE = delete(_TABLE).where(
    _TABLE.c.list_id == bindparam("list_id"), _TABLE.c.post_number <= bindparam("oldest")
)


def recorded(session: Session, list_id: str, message_id_hash: str) -> int | None:
    """The number this message got on this list, or None if it was never counted."""
    params = {"list_id": list_id, "message_id_hash": message_id_hash}
    return session.scalar(_RECORDED, params)


def remember(run: Statements, list_id: str, message_id_hash: str, post_number: int) -> None:
    """Record the number given; a second record of one message fails on the primary key."""
    # A plain INSERT rather than an object added and flushed: nothing reads the row back.
    params = {"list_id": list_id, "message_id_hash": message_id_hash, "post_number": post_number}
    run.execute(_REMEMBER, params)
    if post_number % PRUNE_EVERY == 0:
        run.execute(_PRUNE, {"list_id": list_id, "oldest": post_number - KEEP})


def forget(session: Session, list_id: str) -> None:
    """Drop a list's records (the list is being deleted)."""
    session.execute(delete(PostCountRow).where(PostCountRow.list_id == list_id))


# The list table itself: the counter's statements bypass the ORM.
_LISTS = cast(Table, MailingListRow.__table__)
# The counter's statement, built once (it runs for every post): it goes to the table,
# not through the ORM, as nothing of the row is in the session to keep in step.
_BUMP = (
    update(_LISTS)
    .where(_LISTS.c.list_id == bindparam("counted_list"))
    .values(post_id=_LISTS.c.post_id + 1, last_post_at=bindparam("counted_at"))
    # Counting a post changes no setting: cached lists stay valid (database/changes.py).
    .execution_options(**{PER_POST: True})
)
_BUMP_RETURNING = _BUMP.returning(_LISTS.c.post_id)
_POST_ID = select(_LISTS.c.post_id).where(_LISTS.c.list_id == bindparam("list_id"))
# Reserve a block: post_id moves past it.  A block of this process's still at the top
# (post_id is its limit: nobody reserved after it) gives its unused numbers back first.
_RESERVE = (
    update(_LISTS)
    .where(_LISTS.c.list_id == bindparam("counted_list"))
    .values(
        post_id=case(
            (_LISTS.c.post_id == bindparam("held_limit"), bindparam("held_next")),
            else_=_LISTS.c.post_id,
        )
        + bindparam("block_size"),
        last_post_at=bindparam("counted_at"),
    )
    .execution_options(**{PER_POST: True})
)
_RESERVE_RETURNING = _RESERVE.returning(_LISTS.c.post_id)
# Give back what is left of a block, if nobody reserved after it.
_GIVE_BACK = (
    update(_LISTS)
    .where(
        _LISTS.c.list_id == bindparam("counted_list"),
        _LISTS.c.post_id == bindparam("held_limit"),
    )
    .values(post_id=bindparam("held_next"), last_post_at=bindparam("counted_at"))
    .execution_options(**{PER_POST: True})
)


def _post_id_after(
    run: Statements, change: ClauseElement, returning: ClauseElement, params: dict[str, Any]
) -> int | None:
    """The list's ``post_id`` as ``change`` left it (None: no such list), read back in
    the same statement where the database can."""
    if run.update_returning:
        found = run.scalar(returning, params)
    elif run.execute(change, params):
        found = run.scalar(_POST_ID, {"list_id": params["counted_list"]})
    else:
        return None
    return None if found is None else int(found)


@dataclass
class _Block:
    """Numbers reserved for one list: after ``first``, up to ``limit`` (the list's
    ``post_id`` as the reservation left it); ``next`` is the last handed out."""

    first: int
    next: int
    limit: int
    #: When it was reserved (monotonic), and when its last post was counted.
    taken: float
    counted_at: datetime

    @property
    def left(self) -> int:
        return self.limit - self.next

    def next_size(self, now: float) -> int:
        """How many to reserve after this one: twice as many if all went in time, else
        as many as went (one on a quiet list)."""
        used = self.next - self.first
        if not self.left and now - self.taken < BLOCK_TIME:
            return min(used * 2, BLOCK_MAX)
        return max(1, min(used, BLOCK_MAX))


class PostCounter:
    """The post-numbering part of the list manager (see IListManager for the contract)."""

    def __init__(self, session: SessionFactory, *, clock: Callable[[], datetime] = utc_now):
        self._session = session
        self._now = clock
        # The engine the sessions are bound to, once a session has told it.
        self._engine: Engine | None = None
        # This process's blocks of numbers for posts whose number is shown nowhere, and
        # the fork of the process they belong to: a forked child must not hand out its
        # parent's blocks, nor give them back (see ``_own_blocks``).
        self._blocks: dict[str, _Block] = {}
        self._generation = forks.generation

    def record_post(
        self, mlist: ListRef, message_id: str | None = None, *, shown: bool = True
    ) -> int:
        list_id = list_id_of(mlist)
        if list_id is not None:
            if not shown:
                return self._from_block(mlist, list_id)
            # A shown number is the list's post_id: what is left of a block is dropped
            # (its numbers were never shown, and the gap they leave is harmless).
            self._blocks.pop(list_id, None)
        hashed = message_id_hash(message_id) if message_id and list_id else None
        try:
            # One transaction counts the post and records its number; this runs for
            # every post, so the common case (a message never counted) looks nothing up.
            with self._transaction() as transaction:
                return self._count(transaction, mlist, list_id, hashed)
        except IntegrityError:
            # The message was counted before (a redone entry, or another runner counting
            # it meanwhile): its number stands, and the rollback undid this count.
            assert list_id is not None and hashed is not None
            with self._session() as session:
                return int(recorded(session, list_id, hashed) or 0) + 1

    @contextmanager
    def _transaction(self) -> Iterator[Statements]:
        """A transaction on the list slice's engine, without an ORM session.

        The count is two statements that write nothing any cache holds (PER_POST), run
        on the driver's cursor (``database/prepared.py``): a session's set-up and
        commit, or even Core's execution, cost more CPU than the database's work.
        """
        if self._engine is None:
            with self._session() as session:
                bind = session.get_bind()
            if not isinstance(bind, Engine):
                # A session bound to one connection: stay on sessions.
                with self._session() as session:
                    yield CoreStatements(session.connection())
                return
            self._engine = bind
        with driver_transaction(self._engine) as transaction:
            yield transaction

    def _count(
        self, run: Statements, mlist: ListRef, list_id: str | None, hashed: str | None
    ) -> int:
        # The UPDATE finds the row by its list-id, without loading it first; it is one
        # statement, so concurrent runners never hand out the same number.
        post_id: int | None = None
        if list_id is not None:
            params = {"counted_list": list_id, "counted_at": self._now()}
            post_id = _post_id_after(run, _BUMP, _BUMP_RETURNING, params)
        if post_id is None:
            raise no_such_list(mlist, list_id)
        if hashed is not None and list_id is not None:
            # Fails on the primary key when the message was counted before.
            remember(run, list_id, hashed, post_id - 1)
        return post_id

    def _from_block(self, mlist: ListRef, list_id: str) -> int:
        now = time.monotonic()
        if self._generation != forks.generation:
            self._own_blocks()
        block = self._blocks.get(list_id)
        if block is not None and block.left and now - block.taken < BLOCK_TIME:
            block.next += 1
            block.counted_at = self._now()
            return block.next
        size = 1 if block is None else block.next_size(now)
        held = block if block is not None and block.left else None
        counted_at = self._now()
        params = {
            "counted_list": list_id,
            "counted_at": counted_at,
            "block_size": size,
            "held_limit": held.limit if held is not None else -1,
            "held_next": held.next if held is not None else 0,
        }
        with self._transaction() as run:
            limit = _post_id_after(run, _RESERVE, _RESERVE_RETURNING, params)
        if limit is None:
            raise no_such_list(mlist, list_id)
        # The first number of the block is this post's; post_id after it is returned.
        first = limit - size
        self._blocks[list_id] = _Block(first, first + 1, limit, now, counted_at)
        return first + 1

    def settle(self, older_than: float = BLOCK_TIME) -> float | None:
        """Give back what is left of blocks reserved ``older_than`` seconds ago or more.

        Seconds until the next block is due to be given back; None if none is held.
        """
        now = time.monotonic()
        if self._generation != forks.generation:
            self._own_blocks()
        due = [
            (list_id, block) for list_id, block in self._blocks.items()
            if block.left and now - block.taken >= older_than
        ]  # fmt: skip
        if due:
            with self._transaction() as run:
                for list_id, block in due:
                    params = {"counted_list": list_id, "counted_at": block.counted_at,
                              "held_limit": block.limit, "held_next": block.next}  # fmt: skip
                    run.execute(_GIVE_BACK, params)
                    # Kept, empty, for the size of the next block.
                    block.limit = block.next
        waits = [b.taken + BLOCK_TIME - now for b in self._blocks.values() if b.left]
        return max(0.0, min(waits)) if waits else None

    def _own_blocks(self) -> None:
        """In a process forked since, start without blocks: the parent's stay its own."""
        self._blocks, self._generation = {}, forks.generation

    def post_number(self, mlist: ListRef, message_id: str | None = None) -> int:
        list_id = list_id_of(mlist)
        with self._session() as session:
            if message_id and list_id is not None:
                number = recorded(session, list_id, message_id_hash(message_id))
                if number is not None:
                    return number
            # Only the number, not the whole row: this runs for every numbered post.
            post_id = None
            if list_id is not None:
                post_id = session.scalar(_POST_ID, {"list_id": list_id})
            if post_id is None:
                raise no_such_list(mlist, list_id)
            return int(post_id)
