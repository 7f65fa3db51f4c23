"""Users, addresses, memberships and bounce scores: compared and written in bulk.

Each step reads what Posthorn has in one query, compares it with the description in
memory and writes only the differences: new rows in batches, changed rows one by one.
Users keep their ids and members theirs, so links from other systems (archives, web
front ends) still point at the same people after the move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, insert, select, update

from posthorn.importers.description import AddressData, ListData, UserData
from posthorn.importers.tally import Tally
from posthorn.model.base import new_id, utc_now
from posthorn.model.bounces import BounceStateRow
from posthorn.model.members import MemberRow
from posthorn.model.users import AddressRow, UserRow
from posthorn.passwords import hash_imported_passwords

if TYPE_CHECKING:
    from posthorn.model.base import SessionFactory
    from posthorn.site import Site

__all__ = ["apply_addresses", "apply_bounces", "apply_members", "apply_users"]

BATCH = 2000
_USERS = cast(Table, UserRow.__table__)
_ADDRESSES = cast(Table, AddressRow.__table__)
_MEMBERS = cast(Table, MemberRow.__table__)
_BOUNCES = cast(Table, BounceStateRow.__table__)


def _insert(factory: SessionFactory, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        with factory() as session:
            session.execute(insert(table), list(rows[start : start + BATCH]))


def _update(factory: SessionFactory, table: Table, key: str, rows: Iterable[Any]) -> None:
    with factory() as session:
        for value, changes in rows:
            session.execute(update(table).where(table.c[key] == value).values(**changes))


def _differences(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in wanted.items() if current.get(name) != value}


def apply_users(site: Site, users: Sequence[UserData], tally: Tally) -> dict[str, str]:
    """Create or update users; the ids of users found by address instead, old to new."""
    factory = site.databases.session_factory("user")
    with factory() as session:
        existing = {row.user_id: dict(row._mapping) for row in session.execute(select(_USERS))}
        query = select(_ADDRESSES.c.email, _ADDRESSES.c.user_id)
        owners = {row[0]: row[1] for row in session.execute(query)}
    remap: dict[str, str] = {}
    new: list[dict[str, Any]] = []
    changed: list[tuple[str, dict[str, Any]]] = []
    # Rows waiting for the hash of a plain password, hashed all at once at the end.
    to_hash: list[tuple[dict[str, Any], str]] = []
    for user in users:
        # A person Posthorn knows by one of their addresses is that user, whatever id
        # the old site gave them (Mailman 2.1 has no users, only list members).
        owner = owners.get(user.match_email or "") if user.user_id not in existing else None
        if owner is not None and owner in existing:
            remap[user.user_id] = owner
        current = existing.get(remap.get(user.user_id, user.user_id))
        what = user.preferred_email or user.match_email or user.user_id
        wanted = _user_values(user, current)
        if current is None:
            tally.created("users", what)
            new.append({"user_id": user.user_id, "created_on": user.created_on or utc_now()})
            new[-1].update(wanted, password=user.password)
            if user.password is None and user.plain_password is not None:
                to_hash.append((new[-1], user.plain_password))
            continue
        differences = _differences(current, wanted)
        if user.password is None and user.plain_password is not None and not current["password"]:
            # Only a user with no password gets the old one: one set here since stays.
            differences["password"] = None
            to_hash.append((differences, user.plain_password))
        if differences:
            tally.changed("users", what, ", ".join(differences))
            changed.append((current["user_id"], differences))
        else:
            tally.unchanged("users")
    if not tally.dry_run:
        # In slices, so the progress bar moves while the (slow, on purpose) hashing runs.
        for start in range(0, len(to_hash), BATCH):
            part = to_hash[start : start + BATCH]
            hashes = hash_imported_passwords([password for _, password in part])
            for (row, _), hashed in zip(part, hashes, strict=True):
                row["password"] = hashed
            tally.progress(len(part))
        _insert(factory, _USERS, new)
        _update(factory, _USERS, "user_id", changed)
    return remap


def _user_values(user: UserData, current: Mapping[str, Any] | None) -> dict[str, Any]:
    wanted: dict[str, Any] = {
        "is_server_owner": user.is_server_owner,
        "preferences": dict(user.preferences) or None,
    }
    if user.display_name is not None:
        wanted["display_name"] = user.display_name
    if user.preferred_email is not None:
        wanted["preferred_email"] = user.preferred_email
    stored = current["password"] if current is not None else None
    # A hash in Posthorn's own format means the user has logged in or chosen a password
    # here since: the old site's hash would undo that, so it stays.
    if user.password is not None and not (stored or "").startswith("$argon2"):
        wanted["password"] = user.password
    return wanted


def apply_addresses(
    site: Site, addresses: Sequence[AddressData], remap: Mapping[str, str], tally: Tally
) -> None:
    factory = site.databases.session_factory("user")
    with factory() as session:
        existing = {row.email: dict(row._mapping) for row in session.execute(select(_ADDRESSES))}
    new: list[dict[str, Any]] = []
    changed: list[tuple[str, dict[str, Any]]] = []
    for address in _once(addresses):
        wanted: dict[str, Any] = {"display_name": address.display_name}
        if address.user_id is not None:
            wanted["user_id"] = remap.get(address.user_id, address.user_id)
        # Unknown on the old site (None) leaves what Posthorn has.
        if address.verified_on is not None:
            wanted["verified_on"] = address.verified_on
        if address.preferences:
            wanted["preferences"] = dict(address.preferences)
        current = existing.get(address.email)
        if current is None:
            tally.created("addresses", address.email)
            new.append(
                {
                    "email": address.email,
                    "original_email": address.original_email,
                    "registered_on": address.registered_on or utc_now(),
                    "verified_on": None,
                    "user_id": None,
                    "preferences": None,
                    **wanted,
                }
            )
        elif differences := _differences(current, wanted):
            tally.changed("addresses", address.email, ", ".join(differences))
            changed.append((address.email, differences))
        else:
            tally.unchanged("addresses")
    tally.progress(len(addresses))
    if not tally.dry_run:
        _insert(factory, _ADDRESSES, new)
        _update(factory, _ADDRESSES, "email", changed)


def _once(addresses: Sequence[AddressData]) -> list[AddressData]:
    """Each address once: a list's owner may be its member too; the fuller entry wins."""
    found: dict[str, AddressData] = {}
    for address in addresses:
        seen = found.get(address.email)
        fuller = seen is not None and (
            (seen.user_id is None and address.user_id is not None)
            or (seen.display_name is None and address.display_name is not None)
        )
        if seen is None or fuller:
            found[address.email] = address
    return list(found.values())


def apply_members(site: Site, mlist: ListData, exists: bool, tally: Tally) -> None:
    """Memberships of one list, matched by member id, else by address and role."""
    factory = site.databases.session_factory("list")
    with site.databases.session_factory("user")() as session:
        owners = {
            row[0]: row[1]
            for row in session.execute(select(_ADDRESSES.c.email, _ADDRESSES.c.user_id))
        }
    rows: list[Mapping[str, Any]] = []
    if exists:
        with factory() as session:
            query = select(_MEMBERS).where(_MEMBERS.c.list_id == mlist.list_id)
            rows = [dict(row._mapping) for row in session.execute(query)]
    by_id = {row["member_id"]: row for row in rows}
    by_key = {(row["email"], row["role"]): row for row in rows}
    new: list[dict[str, Any]] = []
    changed: list[tuple[str, dict[str, Any]]] = []
    matched: set[str] = set()
    for member in mlist.members:
        wanted = {
            "email": member.email,
            "role": member.role,
            "display_name": member.display_name,
            "moderation_action": member.moderation_action,
            "delivery_mode": member.delivery_mode,
            "delivery_status": member.delivery_status,
            "user_id": owners.get(member.email),
            "preferences": dict(member.preferences) or None,
        }
        what = f"{member.email} ({member.role}) of {mlist.fqdn_listname}"
        current = by_id.get(member.member_id) or by_key.get((member.email, member.role))
        if current is not None:
            matched.add(current["member_id"])
        if current is None:
            tally.created("members", what)
            # Mailman's member ids are unique site-wide, as Posthorn's are.
            member_id = member.member_id or new_id()
            new.append({"member_id": member_id, "list_id": mlist.list_id, **wanted})
            new[-1]["subscribed_on"] = utc_now()
        elif differences := _differences(current, wanted):
            tally.changed("members", what, ", ".join(differences))
            changed.append((current["member_id"], differences))
        else:
            tally.unchanged("members")
    tally.progress(len(mlist.members))
    # An import never unsubscribes anyone: who joined here since stays.
    if extra := len(by_id.keys() - matched):
        tally.problems.append(
            f"{mlist.fqdn_listname}: {extra} member entries here are not on the old site; "
            "left as they are"
        )
    if not tally.dry_run:
        _insert(factory, _MEMBERS, new)
        _update(factory, _MEMBERS, "member_id", changed)


def apply_bounces(site: Site, mlist: ListData, tally: Tally) -> None:
    factory = site.databases.session_factory("list")
    with factory() as session:
        query = select(_BOUNCES).where(_BOUNCES.c.list_id == mlist.list_id)
        existing = {row.email: dict(row._mapping) for row in session.execute(query)}
    for bounce in mlist.bounces:
        wanted = {
            "score": bounce.score,
            "last_bounce": bounce.last_bounce,
            "warnings_sent": bounce.warnings_sent,
            "last_warning": bounce.last_warning,
        }
        current = existing.get(bounce.email)
        what = f"{bounce.email} on {mlist.fqdn_listname}"
        if current is None:
            tally.created("bounce scores", what)
            if not tally.dry_run:
                row = {"list_id": mlist.list_id, "email": bounce.email, **wanted}
                _insert(factory, _BOUNCES, [row])
        elif differences := _differences(current, wanted):
            tally.changed("bounce scores", what, ", ".join(differences))
            if not tally.dry_run:
                _update(factory, _BOUNCES, "id", [(current["id"], differences)])
        else:
            tally.unchanged("bounce scores")
