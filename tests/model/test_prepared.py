"""Statements run on the driver's cursor send what Core would, and fail as Core fails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from posthorn.database.prepared import driver_transaction
from posthorn.model.lists import MailingListRow
from posthorn.model.post_counts import PostCountRow
from posthorn.site import Site

LISTS = cast(Table, MailingListRow.__table__)
COUNTS = cast(Table, PostCountRow.__table__)
BUMP = (
    update(LISTS)
    .where(LISTS.c.list_id == bindparam("list"))
    .values(post_id=LISTS.c.post_id + 1, last_post_at=bindparam("at"))
)
POST_ID = select(LISTS.c.post_id).where(LISTS.c.list_id == bindparam("list"))


def test_values_are_converted_by_the_column_types(site: Site) -> None:
    site.lists.create("dev@example.org")
    engine = site.databases.engine("list")
    at = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    with driver_transaction(engine) as run:
        changed = run.execute(BUMP, {"list": "dev.example.org", "at": at})
        number = run.scalar(POST_ID, {"list": "dev.example.org"})
    assert (changed, number) == (1, 2)
    # Read back through the ORM: the value is stored as a Core execution stores it.
    counted = site.lists.require("dev@example.org")
    assert (counted.post_id, counted.last_post_at) == (2, at)


def test_a_failing_statement_raises_sqlalchemys_error_and_undoes_the_transaction(
    site: Site,
) -> None:
    site.lists.create("dev@example.org")
    engine = site.databases.engine("list")
    row = {"list_id": "dev.example.org", "message_id_hash": "H", "post_number": 1}
    with driver_transaction(engine) as run:
        run.execute(insert(COUNTS), row)
    with pytest.raises(IntegrityError), driver_transaction(engine) as run:
        run.execute(BUMP, {"list": "dev.example.org", "at": datetime.now(UTC)})
        run.execute(insert(COUNTS), row)
    assert site.lists.require("dev@example.org").post_id == 1
    # The connection went back to the pool usable.
    with driver_transaction(engine) as run:
        assert run.execute(BUMP, {"list": "dev.example.org", "at": datetime.now(UTC)}) == 1
