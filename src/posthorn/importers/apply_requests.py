"""Requests waiting for someone: pending confirmations and held messages.

A pending keeps its token, so a confirmation link or a moderator's link sent by the
old site still works after the move; a held message keeps its reason and the date it
was held.  Both are matched exactly (token; list and message bytes), so a re-run adds
only what is new and never holds the same message twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, select

from posthorn.importers.description import ListData
from posthorn.importers.tally import Tally
from posthorn.interfaces.messages import message_id_hash
from posthorn.model.held import HeldMessageRow, the_message_id
from posthorn.model.pending import PendingRow

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["apply_held", "apply_pendings"]

_PENDINGS = cast(Table, PendingRow.__table__)
_HELD = cast(Table, HeldMessageRow.__table__)


def apply_pendings(site: Site, mlist: ListData, tally: Tally) -> None:
    if not mlist.pendings:
        return
    factory = site.databases.session_factory("list")
    tokens = [pending.token for pending in mlist.pendings]
    with factory() as session:
        query = select(_PENDINGS).where(_PENDINGS.c.token.in_(tokens))
        existing = {row.token: dict(row._mapping) for row in session.execute(query)}
    for pending in mlist.pendings:
        what = f"{pending.type} of {pending.data.get('email', '?')} on {mlist.fqdn_listname}"
        wanted = {
            "type": pending.type,
            "list_id": mlist.list_id,
            "data": dict(pending.data),
            "created_on": pending.created_on,
            "expires_on": pending.expires_on,
        }
        current = existing.get(pending.token)
        if current is not None and all(current[name] == wanted[name] for name in wanted):
            tally.unchanged("pending requests")
            continue
        if current is None:
            tally.created("pending requests", what)
        else:
            tally.changed("pending requests", what)
        if tally.dry_run:
            continue
        with factory() as session:
            row = session.scalar(select(PendingRow).where(PendingRow.token == pending.token))
            if row is None:
                session.add(PendingRow(token=pending.token, **wanted))
            else:
                for name, value in wanted.items():
                    setattr(row, name, value)


def apply_held(site: Site, mlist: ListData, tally: Tally) -> None:
    if not mlist.held:
        return
    factory = site.databases.session_factory("message")
    with factory() as session:
        query = select(_HELD.c.message_id_hash, _HELD.c.raw).where(_HELD.c.list_id == mlist.list_id)
        existing = {(row[0], row[1]) for row in session.execute(query)}
    for held in mlist.held:
        try:
            message_id = the_message_id(held.raw)
        except ValueError as error:
            tally.problems.append(f"{mlist.fqdn_listname}: a held message not imported: {error}")
            continue
        hashed = message_id_hash(message_id)
        if (hashed, held.raw) in existing:
            tally.unchanged("held messages")
            continue
        tally.created("held messages", f"{message_id} from {held.sender} on {mlist.fqdn_listname}")
        if tally.dry_run:
            continue
        with factory() as session:
            session.add(
                HeldMessageRow(
                    list_id=mlist.list_id,
                    message_id=message_id,
                    message_id_hash=hashed,
                    sender=held.sender,
                    subject=held.subject,
                    reason=held.reason,
                    msgdata=dict(held.msgdata),
                    raw=held.raw,
                    held_on=held.held_on,
                )
            )
