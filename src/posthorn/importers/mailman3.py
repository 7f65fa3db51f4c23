"""Read a GNU Mailman 3.2/3.3 site: its database, and its ``var/`` if given.

Users keep their ids, addresses their verification dates, members their ids, roles,
moderation actions and preferences.  Mailman resolves a member's preferences from the
membership, then its address, then its user; Posthorn keeps delivery mode and status
on the membership itself, so those two are resolved here the way Mailman does, while
the other preferences stay at the level where they were set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from posthorn.importers.description import (
    AddressData,
    BanData,
    BounceData,
    DomainData,
    HeaderMatchData,
    ListData,
    MemberData,
    SiteData,
    Unmapped,
    UserData,
)
from posthorn.importers.mailman3_db import MailmanDatabase, as_utc, as_uuid_hex, open_mailman
from posthorn.importers.mailman3_lists import ACTIONS, list_settings
from posthorn.importers.mailman3_requests import held_messages, pendings, templates

__all__ = ["read_mailman3"]

_ROLES = ("", "member", "owner", "moderator", "nonmember")
_MODES = ("", "regular", "plaintext_digests", "mime_digests", "summary_digests")
_STATUSES = ("", "enabled", "by_user", "by_bounces", "by_moderator", "unknown")
# FilterType (mailman/interfaces/mime.py) values, in order, and Posthorn's settings.
_FILTERS = ("filter_types", "pass_types", "filter_extensions", "pass_extensions")
_PREFERENCES = (
    "acknowledge_posts",
    "hide_address",
    "preferred_language",
    "receive_list_copy",
    "receive_own_postings",
)


def read_mailman3(url: str, var_dir: Path | None, only: Sequence[str] = ()) -> SiteData:
    """The site in the Mailman database at ``url`` (only the lists named, if any)."""
    with open_mailman(url) as db:
        return _Reader(db, var_dir, only).read()


def _preferences(row: Mapping[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return {}
    return {name: row[name] for name in _PREFERENCES if row.get(name) is not None}


def _choice(choices: tuple[str, ...], value: Any) -> str | None:
    if value is None:
        return None
    number = int(value)
    return choices[number] if 0 < number < len(choices) else None


class _Reader:
    def __init__(self, db: MailmanDatabase, var_dir: Path | None, only: Sequence[str]) -> None:
        self.db = db
        self.var_dir = var_dir
        self.only = {name.lower() for name in only}
        self.site = SiteData(source=f"GNU Mailman 3 (database revision {db.revision})")
        self.prefs = {row["id"]: row for row in db.rows("preferences")}
        self.users = {row["id"]: row for row in db.rows("user")}
        self.addresses = {row["id"]: row for row in db.rows("address")}

    def read(self) -> SiteData:
        lists = [row for row in self.db.rows("mailinglist") if self._wanted(row)]
        hosts = {row["mail_host"] for row in lists}
        for domain in self.db.rows("domain"):
            if not self.only or domain["mail_host"] in hosts:
                self.site.domains.append(
                    DomainData(domain["mail_host"], domain.get("description") or "",
                               domain.get("alias_domain"), self._domain_owners(domain["id"]))
                )  # fmt: skip
        self._people()
        for row in sorted(lists, key=lambda row: str(row["list_id"])):
            self.site.lists.append(self._list(row))
        list_ids = {row["list_id"] for row in lists}
        for ban in self.db.rows("ban"):
            if (ban["list_id"] is None and not self.only) or ban["list_id"] in list_ids:
                self.site.bans.append(BanData(ban["email"], ban["list_id"]))
        return self.site

    def _domain_owners(self, domain_id: int) -> tuple[str, ...]:
        """A domain's owners by the address Posthorn names them with: the preferred one."""
        found = []
        for row in self.db.rows("domain_owner"):
            user = self.users.get(row["user_id"]) if row["domain_id"] == domain_id else None
            preferred = self.addresses.get(user.get("_preferred_address_id")) if user else None
            owned = [a for a in self.addresses.values() if user and a.get("user_id") == user["id"]]
            address = preferred or (owned[0] if owned else None)
            if address is not None:
                found.append(str(address["email"]))
        return tuple(sorted(found))

    def _wanted(self, row: Mapping[str, Any]) -> bool:
        names = {str(row["list_id"]).lower(), f"{row['list_name']}@{row['mail_host']}".lower()}
        return not self.only or bool(names & self.only)

    def _people(self) -> None:
        for row in self.users.values():
            preferred = self.addresses.get(row.get("_preferred_address_id"))
            self.site.users.append(
                UserData(
                    user_id=as_uuid_hex(row["_user_id"]) or "",
                    display_name=row.get("display_name"),
                    created_on=as_utc(row.get("_created_on")),
                    password=row.get("password") or None,
                    is_server_owner=bool(row.get("is_server_owner")),
                    preferred_email=preferred["email"] if preferred else None,
                    preferences=_preferences(self.prefs.get(row.get("preferences_id"))),
                )
            )
        for row in self.addresses.values():
            user = self.users.get(row.get("user_id"))
            self.site.addresses.append(
                AddressData(
                    email=row["email"],
                    original_email=row.get("_original") or row["email"],
                    display_name=row.get("display_name"),
                    registered_on=as_utc(row.get("registered_on")),
                    verified_on=as_utc(row.get("verified_on")),
                    user_id=as_uuid_hex(user["_user_id"]) if user else None,
                    preferences=_preferences(self.prefs.get(row.get("preferences_id"))),
                )
            )

    def _list(self, row: Mapping[str, Any]) -> ListData:
        fqdn = f"{row['list_name']}@{row['mail_host']}"
        settings, unmapped = list_settings(row, fqdn)
        self.site.unmapped.extend(unmapped)
        mlist = ListData(
            fqdn,
            settings=settings,
            created_at=as_utc(row.get("created_at")),
            post_id=row.get("post_id"),
            volume=row.get("volume"),
            next_digest_number=row.get("next_digest_number"),
        )
        key = row["id"]
        aliases = [
            r["alias"] for r in self.db.rows("acceptablealias") if r["mailing_list_id"] == key
        ]
        settings["acceptable_aliases"] = tuple(sorted(aliases))
        archivers = self.db.rows("listarchiver")
        disabled = [
            r["name"] for r in archivers if r["mailing_list_id"] == key and not r["_is_enabled"]
        ]
        settings["disabled_archivers"] = tuple(sorted(disabled))
        filters = [r for r in self.db.rows("contentfilter") if r["mailing_list_id"] == key]
        for number, name in enumerate(_FILTERS):
            settings[name] = tuple(
                r["filter_pattern"] for r in filters if int(r["filter_type"]) == number
            )
        self._members(mlist)
        self._header_matches(key, mlist)
        mlist.pendings.extend(pendings(self.db, mlist.list_id))
        held, problems = held_messages(self.db, key, mlist.list_id, self.var_dir)
        mlist.held.extend(held)
        found, texts = templates(self.db, mlist.list_id, self.var_dir)
        mlist.templates.extend(found)
        settings.update(texts)
        self.site.unmapped.extend(Unmapped(fqdn, "held message", text) for text in problems)
        return mlist

    def _header_matches(self, key: int, mlist: ListData) -> None:
        rows = [row for row in self.db.rows("headermatch") if row["mailing_list_id"] == key]
        for row in sorted(rows, key=lambda row: (row.get("position") or 0, row["id"])):
            chain = row.get("chain")
            action = chain if chain in ACTIONS else None
            mlist.header_matches.append(
                HeaderMatchData(row["header"], row["pattern"], action, row.get("tag"))
            )

    def _members(self, mlist: ListData) -> None:
        for row in self.db.rows("member"):
            if row["list_id"] != mlist.list_id:
                continue
            address = self.addresses.get(row.get("address_id"))
            user = self.users.get(row.get("user_id"))
            if address is None and user is not None:
                # Subscribed as a user: Mailman delivers to their preferred address.
                address = self.addresses.get(user.get("_preferred_address_id"))
            if address is None:
                self.site.unmapped.append(
                    Unmapped(mlist.fqdn_listname, "member", f"{row['_member_id']} has no address")
                )
                continue
            owner = user or self.users.get(address.get("user_id"))
            levels = [self.prefs.get(row.get("preferences_id")),
                      self.prefs.get(address.get("preferences_id")),
                      self.prefs.get(owner.get("preferences_id")) if owner else None]  # fmt: skip
            mode = _resolved(levels, "delivery_mode", _MODES) or "regular"
            status = _resolved(levels, "delivery_status", _STATUSES) or "enabled"
            mlist.members.append(
                MemberData(
                    email=address["email"],
                    role=_choice(_ROLES, row["role"]) or "member",
                    display_name=address.get("display_name"),
                    member_id=as_uuid_hex(row["_member_id"]),
                    moderation_action=_action(row.get("moderation_action")),
                    delivery_mode=mode,
                    delivery_status=status,
                    preferences=_preferences(levels[0]),
                )
            )
            self._bounce(row, address["email"], mlist)

    def _bounce(self, row: Mapping[str, Any], email: str, mlist: ListData) -> None:
        score = int(row.get("bounce_score") or 0)
        warnings = int(row.get("total_warnings_sent") or 0)
        if score or warnings:
            mlist.bounces.append(
                BounceData(email, score, as_utc(row.get("last_bounce_received")), warnings,
                           as_utc(row.get("last_warning_sent")))
            )  # fmt: skip


def _resolved(
    levels: Sequence[Mapping[str, Any] | None], name: str, choices: tuple[str, ...]
) -> str | None:
    for level in levels:
        if level is not None and level.get(name) is not None:
            return _choice(choices, level[name])
    return None


def _action(value: Any) -> str | None:
    if value is None:
        return None
    number = int(value)
    return ACTIONS[number] if 0 <= number < len(ACTIONS) else None
