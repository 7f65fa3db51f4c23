"""Every writable list setting, its type and its default: the one place they are declared.

``ListSettings`` is the single declaration; the list model stores the commonly used
settings as columns and the rest in one JSON column, and ``check_settings`` validates
a change against the declared types (bool, int, float, str, optional str, a tuple of
strings, or a Literal of choices) and refuses control characters in every text that
can end up in a header (``_MULTILINE`` names the body texts, which keep their line
breaks, as LF).  Every writer -- REST, the command line, an importer -- goes through
``check_settings``.  Adding a setting is one line here plus the
property in ``IMailingList``; a JSON-stored setting needs no migration, and lists
created before it existed read its default.  Names, choices and defaults follow GNU
Mailman's REST ``config`` resource.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from posthorn.config.types import parse_duration
from posthorn.errors import InvalidSettingError, ReadOnlySettingError, UnknownSettingError
from posthorn.interfaces.lists import (
    Action,
    ArchivePolicy,
    ArchiveRenderingMode,
    AutoResponse,
    BounceForward,
    DigestFrequency,
    DmarcAction,
    FilterAction,
    NewsModeration,
    Personalization,
    ReplyTo,
    RosterVisibility,
    SubscriptionPolicy,
)
from posthorn.messages.oneline import CONTROL

__all__ = [
    "FOR_FRONT_ENDS",
    "READ_ONLY",
    "UNSUPPORTED",
    "ListSettings",
    "check_settings",
    "setting_types",
]

# Attributes a list has that no one sets directly (REST answers "Read-only attribute").
READ_ONLY = frozenset(
    {
        "list_id", "fqdn_listname", "list_name", "mail_host", "posting_address",
        "request_address", "owner_address", "bounces_address", "join_address",
        "leave_address", "no_reply_address", "created_at", "post_id", "volume",
        "next_digest_number", "last_post_at", "digest_last_sent_at", "usenet_watermark",
    }
)  # fmt: skip

# Settings Mailman has and Posthorn cannot act on: only their default is accepted, so
# a list never claims to do what it does not (a tests/test_conventions.py check: every
# setting is read by the code, or listed here or in FOR_FRONT_ENDS).
# None at present: the news gateway settings are acted on by runners/nntp.py.
UNSUPPORTED: Mapping[str, str] = {}
# Settings only front ends read (through REST): stored and served, not acted on here.
FOR_FRONT_ENDS: Mapping[str, str] = {
    "archive_rendering_mode": "HyperKitty shows archived posts as text or markdown by it",
}

_DURATIONS = frozenset(
    {
        "autoresponse_grace_period",
        "bounce_info_stale_after",
        "bounce_you_are_disabled_warnings_interval",
    }
)

# Texts that go into message bodies or are lines of rules: they may span lines (stored
# with LF line ends), but no other control character but TAB.  Every other text is one
# line, because it ends up in a header (Subject, List-Id, From, Reply-To, ...).
_MULTILINE = frozenset(
    {
        "info",
        "header_text",
        "footer_text",
        "autoresponse_owner_text",
        "autoresponse_postings_text",
        "autoresponse_request_text",
        "dmarc_moderation_notice",
        "dmarc_wrapped_message_text",
        "bounce_matching_headers",
    }
)
# A header folds only between words, and a line may not pass 998 octets on the wire.
HEADER_WORD = 500
_LINE_ENDS = re.compile(r"\r\n?")
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


DEFAULT_FOOTER = (
    "_______________________________________________\n"
    "$display_name mailing list -- $fqdn_listname\n"
    "To unsubscribe send an email to $leave_email\n"
)


@dataclass(frozen=True, kw_only=True)
class ListSettings:
    # Text.  display_name and subject_prefix get list-specific defaults at creation.
    display_name: str = ""
    description: str = ""
    info: str = ""
    subject_prefix: str = ""
    preferred_language: str = "en"
    reply_to_address: str = ""
    linked_newsgroup: str = ""
    autoresponse_owner_text: str = ""
    autoresponse_postings_text: str = ""
    autoresponse_request_text: str = ""
    dmarc_moderation_notice: str = ""
    dmarc_wrapped_message_text: str = ""
    # "Header: regex" lines; a post with a matching header is held (Mailman's name).
    bounce_matching_headers: str = ""
    moderator_password: str | None = None
    # Texts added to every post by the decorate handler ($name placeholders).
    header_text: str = ""
    footer_text: str = DEFAULT_FOOTER
    # Processing.
    posting_pipeline: str = "default-posting-pipeline"
    owner_pipeline: str = "default-owner-pipeline"
    posting_chain: str = "default-posting-chain"
    owner_chain: str = "default-owner-chain"
    # Choices.
    default_member_action: Action = "defer"
    default_nonmember_action: Action = "hold"
    archive_policy: ArchivePolicy = "public"
    archive_rendering_mode: ArchiveRenderingMode = "text"
    subscription_policy: SubscriptionPolicy = "confirm"
    unsubscription_policy: SubscriptionPolicy = "confirm"
    reply_goes_to_list: ReplyTo = "no_munging"
    personalize: Personalization = "none"
    member_roster_visibility: RosterVisibility = "moderators"
    dmarc_mitigate_action: DmarcAction = "no_mitigation"
    filter_action: FilterAction = "discard"
    forward_unrecognized_bounces_to: BounceForward = "administrators"
    newsgroup_moderation: NewsModeration = "none"
    digest_volume_frequency: DigestFrequency = "monthly"
    autorespond_owner: AutoResponse = "none"
    autorespond_postings: AutoResponse = "none"
    autorespond_requests: AutoResponse = "none"
    # Switches.
    advertised: bool = True
    emergency: bool = False
    anonymous_list: bool = False
    allow_list_posts: bool = True
    include_rfc2369_headers: bool = True
    first_strip_reply_to: bool = False
    require_explicit_destination: bool = True
    administrivia: bool = True
    admin_immed_notify: bool = True
    admin_notify_mchanges: bool = False
    send_welcome_message: bool = True
    send_goodbye_message: bool = True
    respond_to_post_requests: bool = True
    digests_enabled: bool = True
    digest_send_periodic: bool = True
    filter_content: bool = False
    collapse_alternatives: bool = True
    convert_html_to_plaintext: bool = False
    dmarc_mitigate_unconditionally: bool = False
    process_bounces: bool = True
    bounce_notify_owner_on_bounce_increment: bool = False
    bounce_notify_owner_on_disable: bool = True
    bounce_notify_owner_on_removal: bool = True
    gateway_to_mail: bool = False
    gateway_to_news: bool = False
    nntp_prefix_subject_too: bool = True
    # Numbers; max_message_size is in KiB and 0 means no limit.
    max_message_size: int = 40
    max_num_recipients: int = 10
    max_days_to_hold: int = 0
    bounce_score_threshold: int = 5
    bounce_you_are_disabled_warnings: int = 3
    digest_size_threshold: float = 30.0
    # Durations, with units.
    autoresponse_grace_period: str = "90d"
    bounce_info_stale_after: str = "7d"
    bounce_you_are_disabled_warnings_interval: str = "7d"
    # Address and MIME-type lists.
    acceptable_aliases: tuple[str, ...] = ()
    accept_these_nonmembers: tuple[str, ...] = ()
    hold_these_nonmembers: tuple[str, ...] = ()
    reject_these_nonmembers: tuple[str, ...] = ()
    discard_these_nonmembers: tuple[str, ...] = ()
    dmarc_addresses: tuple[str, ...] = ()
    filter_types: tuple[str, ...] = ()
    pass_types: tuple[str, ...] = ()
    filter_extensions: tuple[str, ...] = ()
    pass_extensions: tuple[str, ...] = ()
    # Site-enabled archivers this list does not feed (JSON-stored; default: every one on).
    disabled_archivers: tuple[str, ...] = ()

    @classmethod
    def for_list(cls, list_name: str) -> ListSettings:
        """The defaults for a new list, as Mailman derives them from its name."""
        display_name = list_name.capitalize()
        return cls(display_name=display_name, subject_prefix=f"[{display_name}] ")

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe values (tuples as lists), keyed by setting name."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))
        }


@cache
def setting_types() -> Mapping[str, Any]:
    """Setting name to its declared type, e.g. ``bool`` or ``Literal['hold', ...]``."""
    return typing.get_type_hints(ListSettings)


def _check(name: str, hint: Any, value: Any) -> Any:
    """The value as stored, or InvalidSettingError naming what was expected."""
    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise InvalidSettingError(name, f"{name} must be one of: {', '.join(choices)}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise InvalidSettingError(name, f"{name} must be true or false")
        return value
    if hint in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidSettingError(name, f"{name} must be a number")
        if hint is int and not isinstance(value, int):
            raise InvalidSettingError(name, f"{name} must be a whole number")
        if value < 0:
            raise InvalidSettingError(name, f"{name} cannot be negative")
        return hint(value)
    if hint == tuple[str, ...]:
        if isinstance(value, str) or not all(isinstance(item, str) for item in value):
            raise InvalidSettingError(name, f"{name} must be a list of strings")
        return tuple(_text(name, item) for item in value)
    if value is None and hint == (str | None):
        return None
    if not isinstance(value, str):
        raise InvalidSettingError(name, f"{name} must be a string")
    value = _text(name, value)
    if name in _DURATIONS:
        try:
            parse_duration(value)
        except ValueError as error:
            raise InvalidSettingError(name, f"{name}: {error}") from None
    return value


def _text(name: str, value: str) -> str:
    """A text setting as stored: one line, or for a body text, lines ending in LF."""
    if name in _MULTILINE:
        value = _LINE_ENDS.sub("\n", value)
        if _BODY_CONTROL.search(value):
            raise InvalidSettingError(
                name, f"{name} cannot contain control characters (other than line breaks)"
            )
        return value
    found = CONTROL.search(value)
    if found:
        what = {"\r": "CR", "\n": "LF", "\t": "TAB"}.get(
            found.group(), f"U+{ord(found.group()):04X}"
        )
        raise InvalidSettingError(
            name, f"{name} must be one line: it cannot contain control characters ({what})"
        )
    if any(len(word) > HEADER_WORD for word in value.split()):
        raise InvalidSettingError(
            name, f"{name} cannot hold a word longer than {HEADER_WORD} characters"
        )
    return value


def check_settings(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate every change before any is applied, so an update is all or nothing."""
    types = setting_types()
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if name in READ_ONLY:
            raise ReadOnlySettingError(name)
        if name not in types:
            raise UnknownSettingError(name)
        try:
            checked[name] = _check(name, types[name], value)
        except TypeError:
            raise InvalidSettingError(name, f"{name}: {value!r} has the wrong type") from None
        if name in UNSUPPORTED and checked[name] != _defaults()[name]:
            raise InvalidSettingError(
                name, f"{name} cannot be changed: {UNSUPPORTED[name]} "
                f"(only {_defaults()[name]!r} is accepted)",
            )  # fmt: skip
    return checked


@cache
def _defaults() -> Mapping[str, Any]:
    return ListSettings().as_dict()
