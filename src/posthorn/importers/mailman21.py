"""Read one Mailman 2.1 list from its ``config.pck``.

The file is a Python 2 pickle of the list's attribute dictionary.  It is loaded with
the restricted unpickler (plain data, and the one class 2.1 stores there, its bounce
record, as an inert stand-in), keeping Python 2 byte strings as bytes; they are then
decoded with the character set of the list's preferred language, as 2.1 wrote them.

Memberships follow 2.1's ``OldStyleMemberships``: ``members`` and ``digest_members``
map each lowercased address to 0 or to the address as the member typed it; the
per-member option bits, delivery status, language, real name, password and bounce
record are dictionaries under the lowercased address.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from posthorn.errors import PosthornError
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
from posthorn.importers.mailman21_settings import list_settings
from posthorn.importers.unpickle import safe_loads

__all__ = ["Mailman21Error", "read_config_pck"]

# User option bits (2.1 Defaults.py).
DISABLE_MIME = 8
DONT_RECEIVE_OWN_POSTS = 2
ACKNOWLEDGE_POSTS = 4
CONCEAL_SUBSCRIPTION = 16
MODERATE = 128
DONT_RECEIVE_DUPLICATES = 256
# Delivery status codes (2.1 MemberAdaptor.py): ENABLED, UNKNOWN, BYUSER, BYADMIN, BYBOUNCE.
_STATUS = ("enabled", "unknown", "by_user", "by_moderator", "by_bounces")
# member_moderation_action: what happens to a moderated member's post.
_MODERATION = ("hold", "reject", "discard")
# The character set 2.1 used for each language (its LC_DESCRIPTIONS); others: UTF-8.
_CHARSETS = {
    "en": "us-ascii", "de": "iso-8859-1", "fr": "iso-8859-1", "es": "iso-8859-1",
    "it": "iso-8859-1", "pt": "iso-8859-1", "pt_BR": "iso-8859-1", "nl": "iso-8859-1",
    "da": "iso-8859-1", "sv": "iso-8859-1", "no": "iso-8859-1", "fi": "iso-8859-1",
    "ca": "iso-8859-1", "eu": "iso-8859-1", "pl": "iso-8859-2", "cs": "iso-8859-2",
    "hu": "iso-8859-2", "hr": "iso-8859-2", "sk": "iso-8859-2", "sl": "iso-8859-2",
    "ro": "iso-8859-2", "ru": "koi8-r", "ja": "euc-jp", "ko": "euc-kr", "zh_CN": "gb2312",
    "zh_TW": "big5", "el": "iso-8859-7", "he": "iso-8859-8", "tr": "iso-8859-9",
    "et": "iso-8859-15", "lt": "iso-8859-13",
}  # fmt: skip
# header_filter_rules actions (Defaults.py): DEFER 0, APPROVE 1, REJECT 2, DISCARD 3,
# ACCEPT 6, HOLD 7; defer means "no decision", the site's default.
_HEADER_ACTIONS = {0: None, 1: "accept", 2: "reject", 3: "discard", 6: "accept", 7: "hold"}
# A stable namespace for the ids of users made from 2.1 members (who have none).
_USER_IDS = uuid.UUID("6f1c3c52-6a53-4f57-9a44-0c1b5d2c2a21")


class Mailman21Error(PosthornError):
    """Not a Mailman 2.1 list's config.pck, or one missing what every list has."""


class _BounceInfo:
    """An inert stand-in for 2.1's ``Mailman.Bouncer._BounceInfo``: only its fields."""


_ALLOWED = {("Mailman.Bouncer", "_BounceInfo"): _BounceInfo}


def _decoder(charset: str, problems: list[str]) -> Any:
    def decode(value: Any) -> Any:
        if isinstance(value, bytes):
            for candidate in (charset, "utf-8"):
                try:
                    return value.decode(candidate)
                except (UnicodeDecodeError, LookupError):
                    continue
            problems.append(f"text not in {charset} nor UTF-8 read as Latin-1: {value[:40]!r}")
            return value.decode("latin-1")
        if isinstance(value, dict):
            return {decode(key): decode(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(decode(item) for item in value)
        if isinstance(value, _BounceInfo):
            return {decode(key): decode(item) for key, item in vars(value).items()}
        return value

    return decode


def load_config(path: Path, problems: list[str]) -> dict[str, Any]:
    """The decoded attribute dictionary of a ``config.pck``."""
    raw = safe_loads(path.read_bytes(), allowed=_ALLOWED, encoding="bytes")
    if not isinstance(raw, dict) or (b"members" not in raw and "members" not in raw):
        raise Mailman21Error(f"{path}: not a Mailman 2.1 list configuration")
    language = raw.get(b"preferred_language", raw.get("preferred_language", b"en"))
    language = language.decode("ascii", "replace") if isinstance(language, bytes) else language
    config = _decoder(_CHARSETS.get(str(language), "utf-8"), problems)(raw)
    assert isinstance(config, dict)
    return config


def read_config_pck(fqdn_listname: str, path: Path) -> SiteData:
    """The list at ``fqdn_listname`` as its 2.1 ``config.pck`` describes it."""
    host = fqdn_listname.partition("@")[2]
    if not host:
        raise Mailman21Error(f"{fqdn_listname}: give the list's posting address, list@domain")
    problems: list[str] = []
    config = load_config(path, problems)
    site = SiteData(source=f"Mailman 2.1 {path}")
    site.domains.append(DomainData(host))
    settings, unmapped = list_settings(config, fqdn_listname)
    mlist = ListData(fqdn_listname, settings=settings)
    created = config.get("created_at")
    if isinstance(created, (int, float)):
        mlist.created_at = datetime.fromtimestamp(created, UTC)
    for counter in ("post_id", "volume", "next_digest_number"):
        if isinstance(config.get(counter), int):
            setattr(mlist, counter, config[counter])
    _members(config, mlist, site)
    _staff(config, mlist, site)
    site.bans.extend(BanData(str(ban), mlist.list_id) for ban in config.get("ban_list", []))
    mlist.header_matches.extend(_header_rules(config.get("header_filter_rules", []), unmapped))
    site.lists.append(mlist)
    site.unmapped.extend(unmapped)
    site.unmapped.extend(Unmapped(fqdn_listname, "text", problem) for problem in problems)
    return site


def _header_rules(rules: list[Any], unmapped: list[Unmapped]) -> list[HeaderMatchData]:
    """2.1's rules match regexes against whole ``Header: value`` lines; Posthorn's match
    one header's value, so each line's leading ``^Header:`` becomes the header."""
    found: list[HeaderMatchData] = []
    for rule in rules:
        patterns, code = str(rule[0]), int(rule[1])
        action = _HEADER_ACTIONS.get(code)
        for line in filter(None, (part.strip() for part in patterns.splitlines())):
            match = re.match(r"\^?([\w-]+):\s*(.*)$", line)
            if match is None or code not in _HEADER_ACTIONS:
                unmapped.append(Unmapped("header_filter_rules", line, f"action {code}"))
                continue
            found.append(HeaderMatchData(match.group(1), match.group(2) or ".*", action))
    return found


def _option(options: int, bit: int) -> bool:
    return bool(options & bit)


def _members(config: Mapping[str, Any], mlist: ListData, site: SiteData) -> None:
    regular: Mapping[str, Any] = config.get("members", {})
    digest: Mapping[str, Any] = config.get("digest_members", {})
    options: Mapping[str, int] = config.get("user_options", {})
    names: Mapping[str, str] = config.get("usernames", {})
    passwords: Mapping[str, str] = config.get("passwords", {})
    languages: Mapping[str, str] = config.get("language", {})
    statuses: Mapping[str, Any] = config.get("delivery_status", {})
    bounces: Mapping[str, Any] = config.get("bounce_info", {})
    moderation = _MODERATION[int(config.get("member_moderation_action", 0)) % 3]
    list_language = str(config.get("preferred_language", "en"))
    for roster, is_digest in ((regular, False), (digest, True)):
        for key, typed in roster.items():
            email = key.lower()
            bits = int(options.get(email, 0))
            preferences: dict[str, Any] = {}
            if _option(bits, ACKNOWLEDGE_POSTS):
                preferences["acknowledge_posts"] = True
            if _option(bits, DONT_RECEIVE_OWN_POSTS):
                preferences["receive_own_postings"] = False
            if _option(bits, CONCEAL_SUBSCRIPTION):
                preferences["hide_address"] = True
            if _option(bits, DONT_RECEIVE_DUPLICATES):
                preferences["receive_list_copy"] = False
            language = languages.get(email, list_language)
            if language != list_language:
                preferences["preferred_language"] = language
            status = statuses.get(email)
            code = int(status[0]) if isinstance(status, (list, tuple)) and status else 0
            mode = "regular"
            if is_digest:
                mode = "plaintext_digests" if _option(bits, DISABLE_MIME) else "mime_digests"
            display_name = names.get(email) or None
            mlist.members.append(
                MemberData(
                    email,
                    "member",
                    display_name=display_name,
                    moderation_action=moderation if _option(bits, MODERATE) else None,
                    delivery_mode=mode,
                    delivery_status=_STATUS[code] if 0 <= code < len(_STATUS) else "unknown",
                    preferences=preferences,
                )
            )
            _person(site, email, str(typed or email), display_name, passwords.get(email))
            bounce = bounces.get(email)
            if isinstance(bounce, dict):
                warnings = int(config.get("bounce_you_are_disabled_warnings", 0) or 0)
                mlist.bounces.append(_bounce(email, bounce, warnings if code == 4 else 0))


def _person(
    site: SiteData, email: str, typed: str, display_name: str | None, password: str | None
) -> None:
    """The member's address and, if 2.1 kept a password for it, a user to hold it."""
    user_id = None
    if password:
        # The same address gets the same id on every run, so a re-run finds its user.
        user_id = uuid.uuid5(_USER_IDS, email).hex
        user = UserData(user_id, display_name, None, plain_password=password, match_email=email)
        site.users.append(user)
    site.addresses.append(AddressData(email, typed, display_name, None, None, user_id=user_id))


def _bounce(email: str, info: Mapping[str, Any], warnings: int) -> BounceData:
    """2.1 keeps a score and the day of the last bounce as a (year, month, day) tuple.

    ``noticesleft`` counts down from the list's number of warnings once a member is
    disabled for bouncing, so the warnings sent are the difference.
    """

    def day(value: Any) -> datetime | None:
        if isinstance(value, (list, tuple)) and len(value) >= 3 and int(value[0]) > 0:
            return datetime(int(value[0]), int(value[1]), int(value[2]), tzinfo=UTC)
        return None

    warnings_left = int(info.get("noticesleft", 0) or 0)
    return BounceData(
        email,
        int(float(info.get("score", 0) or 0)),
        day(info.get("date")),
        max(0, warnings - warnings_left) if warnings else 0,
        day(info.get("lastnotice")),
    )


def _staff(config: Mapping[str, Any], mlist: ListData, site: SiteData) -> None:
    for attribute, role in (("owner", "owner"), ("moderator", "moderator")):
        for address in config.get(attribute, []):
            email = str(address).lower()
            mlist.members.append(MemberData(email, role))
            site.addresses.append(AddressData(email, str(address), None, None, None))
