"""Large rosters, written in bulk, for tests and benches of delivery to big lists.

``add_members`` inserts member rows straight into the members table, many per
statement: subscribing 100,000 addresses one by one would take minutes and test
nothing the subscription tests do not.  The rows are what ``subscribe`` writes for
an address that has no user: the roster, delivery and digests read nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert

from posthorn.model.base import new_id, utc_now
from posthorn.model.members import MemberRow
from posthorn.site import Site

__all__ = ["add_members", "numbered"]

ROWS_PER_STATEMENT = 5000


def numbered(count: int, start: int = 0) -> list[str]:
    """``count`` distinct addresses over a few domains."""
    return [f"m{n:06d}@d{n % 7}.example.com" for n in range(start, start + count)]


def add_members(
    site: Site,
    list_id: str,
    emails: Iterable[str],
    *,
    delivery_mode: str = "regular",
    delivery_status: str = "enabled",
) -> None:
    """Subscribe ``emails`` (new to the list) as members, ``ROWS_PER_STATEMENT`` a time."""
    now = utc_now()
    every = list(emails)
    with site.databases.session("list") as session:
        for start in range(0, len(every), ROWS_PER_STATEMENT):
            chunk = every[start : start + ROWS_PER_STATEMENT]
            rows = [
                {
                    "member_id": new_id(), "list_id": list_id, "email": email.lower(),
                    "role": "member", "delivery_mode": delivery_mode,
                    "delivery_status": delivery_status, "subscribed_on": now,
                }
                for email in chunk
            ]  # fmt: skip
            session.execute(insert(MemberRow), rows)
