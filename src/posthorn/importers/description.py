"""A neutral description of a site to import: what the readers produce, what apply takes.

Each reader (GNU Mailman 3's database, Mailman 2.1's ``config.pck``) turns its source
into these plain values, in Posthorn's names and choices; ``apply`` then makes the
Posthorn site match them.  Keeping the two halves apart means a reader never writes and
the writer never parses a foreign format, and each is tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "AddressData",
    "BanData",
    "BounceData",
    "DomainData",
    "HeaderMatchData",
    "HeldData",
    "ListData",
    "MemberData",
    "PendingData",
    "SiteData",
    "TemplateData",
    "Unmapped",
    "UserData",
]


@dataclass(frozen=True)
class DomainData:
    mail_host: str
    description: str = ""
    alias_domain: str | None = None
    owners: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserData:
    """A person; ``user_id`` is kept so links into other systems keep working."""

    user_id: str
    display_name: str | None
    created_on: datetime | None
    # A hash in the old site's format (verified on login), never a plain password.
    password: str | None = None
    # A 2.1 member's password, hashed by apply and never stored as it is.
    plain_password: str | None = field(default=None, repr=False)
    is_server_owner: bool = False
    preferred_email: str | None = None
    # Where the old site has no users (Mailman 2.1), a person is the Posthorn user who
    # owns this address already, if any.
    match_email: str | None = None
    preferences: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AddressData:
    email: str
    original_email: str
    display_name: str | None
    registered_on: datetime | None
    verified_on: datetime | None
    user_id: str | None = None
    preferences: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberData:
    """One role of one address on one list, with Posthorn's names for its options."""

    email: str
    role: str
    display_name: str | None = None
    member_id: str | None = None
    moderation_action: str | None = None
    delivery_mode: str = "regular"
    delivery_status: str = "enabled"
    # Member-level preferences other than delivery mode and status.
    preferences: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BounceData:
    email: str
    score: int
    last_bounce: datetime | None
    warnings_sent: int
    last_warning: datetime | None


@dataclass(frozen=True)
class PendingData:
    """A request waiting for someone; the token is kept, so sent links still work."""

    token: str
    type: str
    data: Mapping[str, Any]
    created_on: datetime
    expires_on: datetime


@dataclass(frozen=True)
class HeldData:
    raw: bytes = field(repr=False)
    sender: str
    subject: str
    reason: str
    held_on: datetime
    msgdata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BanData:
    """An address or a ``^regex``; ``list_id`` None bans site-wide."""

    email: str
    list_id: str | None = None


@dataclass(frozen=True)
class HeaderMatchData:
    header: str
    pattern: str
    # None: the site's default action for header matches.
    action: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class TemplateData:
    """A list's override of one template, by Mailman's template name."""

    name: str
    uri: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    # A template file's text (then uri is unused): copied into Posthorn's template_dir.
    text: str | None = None
    language: str = "en"


@dataclass(frozen=True)
class Unmapped:
    """A setting of the old site that Posthorn has no place for, shown in the report."""

    where: str
    name: str
    value: str


@dataclass
class ListData:
    fqdn_listname: str
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    post_id: int | None = None
    volume: int | None = None
    next_digest_number: int | None = None
    members: list[MemberData] = field(default_factory=list)
    bounces: list[BounceData] = field(default_factory=list)
    pendings: list[PendingData] = field(default_factory=list)
    held: list[HeldData] = field(default_factory=list)
    header_matches: list[HeaderMatchData] = field(default_factory=list)
    templates: list[TemplateData] = field(default_factory=list)

    @property
    def list_id(self) -> str:
        name, _, host = self.fqdn_listname.partition("@")
        return f"{name}.{host}"


@dataclass
class SiteData:
    """Everything one reader found; lists and users are independent of each other."""

    source: str
    domains: list[DomainData] = field(default_factory=list)
    users: list[UserData] = field(default_factory=list)
    addresses: list[AddressData] = field(default_factory=list)
    lists: list[ListData] = field(default_factory=list)
    bans: list[BanData] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
