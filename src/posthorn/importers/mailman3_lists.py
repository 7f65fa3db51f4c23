"""A Mailman 3 ``mailinglist`` row as Posthorn's list settings, and what has no place.

Posthorn's settings carry Mailman's REST names and choices, so most columns copy over
by name.  Mailman stores its choices as the integer values of its enums (defined in
``mailman/interfaces/*.py``), some lists as pickles, and periods as SQL intervals; the
tables here turn each back into the name Posthorn uses.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from posthorn.importers.description import Unmapped
from posthorn.importers.mailman3_db import duration
from posthorn.importers.unpickle import UnreadablePickleError, safe_loads
from posthorn.model.settings import ListSettings, setting_types

__all__ = ["ACTIONS", "list_settings", "template_text", "unpickled"]

ACTIONS = ("hold", "reject", "discard", "accept", "defer")
# Enum values by column (Mailman's IntEnum values are the positions here).
_CHOICES: Mapping[str, tuple[str, ...]] = {
    "default_member_action": ACTIONS,
    "default_nonmember_action": ACTIONS,
    "filter_action": (*ACTIONS, "forward", "preserve"),
    "archive_policy": ("never", "private", "public"),
    "autorespond_owner": ("none", "respond_and_discard", "respond_and_continue"),
    "autorespond_postings": ("none", "respond_and_discard", "respond_and_continue"),
    "autorespond_requests": ("none", "respond_and_discard", "respond_and_continue"),
    "forward_unrecognized_bounces_to": ("discard", "administrators", "site_owner"),
    "dmarc_mitigate_action": (
        "no_mitigation", "munge_from", "wrap_message", "reject", "discard",
    ),
    "digest_volume_frequency": ("yearly", "monthly", "quarterly", "weekly", "daily"),
    "newsgroup_moderation": ("none", "open_moderated", "moderated"),
    "personalize": ("none", "individual", "full"),
    "reply_goes_to_list": (
        "no_munging", "point_to_list", "explicit_header", "explicit_header_only",
    ),
    "member_roster_visibility": ("public", "members", "moderators"),
    "subscription_policy": ("open", "confirm", "moderate", "confirm_then_moderate"),
    "unsubscription_policy": ("open", "confirm", "moderate", "confirm_then_moderate"),
    # ArchiveRenderingMode starts at 1.
    "archive_rendering_mode": ("", "text", "markdown"),
}  # fmt: skip
# Columns that are not settings, or come from elsewhere (counters, keys).
_NOT_SETTINGS = frozenset(
    {
        "id", "list_name", "mail_host", "list_id", "created_at", "next_request_id",
        "next_digest_number", "digest_last_sent_at", "volume", "last_post_at", "post_id",
        "usenet_watermark",
    }
)  # fmt: skip
# Columns with no counterpart, and the value that means "not in use".
_UNUSED: Mapping[str, Any] = {
    "topics": None,
    "topics_enabled": False,
    "topics_bodylines_limit": 5,
    "scrub_nondigest": False,
    "encode_ascii_prefixes": False,
    "forward_auto_discards": True,
    "obscure_addresses": True,
    "member_moderation_notice": "",
    "nonmember_rejection_notice": "",
    "digest_is_default": False,
    "moderator_password": None,
}
# Mailman placeholders in header and footer templates that Posthorn names otherwise.
_PLACEHOLDERS = {"listname": "fqdn_listname", "short_listname": "list_name", "domain": "mail_host"}
_PICKLE_NAMES = {("sqlalchemy.ext.mutable", "MutableList"): list}


def unpickled(value: Any) -> Any:
    """A PickleType column's value; lists as SQLAlchemy's MutableList become lists."""
    if value is None:
        return None
    return safe_loads(bytes(value), allowed=_PICKLE_NAMES, encoding="utf-8")


def _converted(name: str, hint: Any, value: Any) -> Any:
    if name in _CHOICES:
        choices = _CHOICES[name]
        number = int(value)
        return choices[number] if 0 <= number < len(choices) and choices[number] else None
    if hint == tuple[str, ...]:
        return tuple(str(item) for item in unpickled(value) or ())
    if name in ("autoresponse_grace_period", "bounce_info_stale_after",
                "bounce_you_are_disabled_warnings_interval"):  # fmt: skip
        return duration(value)
    if hint is bool:
        return bool(value)
    if hint is int:
        return int(value)
    if hint is float:
        return float(value)
    return str(value)


def list_settings(row: Mapping[str, Any], where: str) -> tuple[dict[str, Any], list[Unmapped]]:
    """The settings of one list row, and the columns Posthorn has no place for."""
    types = setting_types()
    names = {field.name for field in dataclasses.fields(ListSettings)}
    settings: dict[str, Any] = {}
    unmapped: list[Unmapped] = []
    for name, value in row.items():
        if name in _NOT_SETTINGS or value is None:
            continue
        if name in names and name != "moderator_password":
            try:
                converted = _converted(name, types[name], value)
            except (UnreadablePickleError, ValueError, TypeError) as error:
                unmapped.append(Unmapped(where, name, f"unreadable: {error}"))
                continue
            if converted is not None:
                settings[name] = converted
        elif name in _UNUSED:
            _report(unmapped, where, name, value)
        elif not name.startswith("_"):
            unmapped.append(Unmapped(where, name, _shown(value)))
    return settings, unmapped


def _report(unmapped: list[Unmapped], where: str, name: str, value: Any) -> None:
    if name == "moderator_password":
        # A hash: Posthorn compares the Approved: password as given, so it needs a new one.
        unmapped.append(Unmapped(where, name, "(set; hashed by Mailman, set a new one)"))
        return
    if name == "topics":
        try:
            value = unpickled(value)
        except UnreadablePickleError as error:
            value = f"unreadable: {error}"
    if value not in (_UNUSED[name], None, [], ""):
        unmapped.append(Unmapped(where, name, _shown(value)))


def template_text(text: str) -> str:
    """A Mailman header or footer template with Posthorn's placeholder names."""
    for old, new in _PLACEHOLDERS.items():
        text = text.replace("${" + old + "}", "${" + new + "}")
        text = re.sub(re.escape("$" + old) + r"(?![A-Za-z0-9_])", "$" + new, text)
    return text


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
