"""Mailman 2.1 list attributes in Posthorn's names and choices, and those with no place.

The attribute names, their types and the meaning of their numeric codes are those of
Mailman 2.1's ``Defaults.py`` and ``MailList.InitVars`` (the documented layout of a
list's ``config.pck``).  Each entry here is one attribute: copied under a new name,
translated through a table of codes, or converted by a small function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from posthorn.importers.description import Unmapped

__all__ = ["UNMAPPED", "list_settings", "placeholders"]

# 2.1 attribute -> Posthorn setting, where only the type changes (0/1 to bool etc.).
_SAME: Mapping[str, str] = {
    "real_name": "display_name",
    "description": "description",
    "info": "info",
    "preferred_language": "preferred_language",
    "reply_to_address": "reply_to_address",
    "linked_newsgroup": "linked_newsgroup",
    "bounce_matching_headers": "bounce_matching_headers",
    "autoresponse_postings_text": "autoresponse_postings_text",
    "autoresponse_admin_text": "autoresponse_owner_text",
    "autoresponse_request_text": "autoresponse_request_text",
    "dmarc_moderation_notice": "dmarc_moderation_notice",
    "dmarc_wrapped_message_text": "dmarc_wrapped_message_text",
}
_BOOLS: Mapping[str, str] = {
    "advertised": "advertised",
    "emergency": "emergency",
    "anonymous_list": "anonymous_list",
    "include_rfc2369_headers": "include_rfc2369_headers",
    "first_strip_reply_to": "first_strip_reply_to",
    "require_explicit_destination": "require_explicit_destination",
    "administrivia": "administrivia",
    "admin_immed_notify": "admin_immed_notify",
    "admin_notify_mchanges": "admin_notify_mchanges",
    "send_welcome_msg": "send_welcome_message",
    "send_goodbye_msg": "send_goodbye_message",
    "respond_to_post_requests": "respond_to_post_requests",
    "digestable": "digests_enabled",
    "digest_send_periodic": "digest_send_periodic",
    "filter_content": "filter_content",
    "collapse_alternatives": "collapse_alternatives",
    "convert_html_to_plaintext": "convert_html_to_plaintext",
    "bounce_processing": "process_bounces",
    "bounce_notify_owner_on_disable": "bounce_notify_owner_on_disable",
    "bounce_notify_owner_on_removal": "bounce_notify_owner_on_removal",
    "gateway_to_news": "gateway_to_news",
    "gateway_to_mail": "gateway_to_mail",
    "news_prefix_subject_too": "nntp_prefix_subject_too",
    "autorespond_postings": "autorespond_postings",
}
_INTS: Mapping[str, str] = {
    "max_num_recipients": "max_num_recipients",
    "max_message_size": "max_message_size",
    "max_days_to_hold": "max_days_to_hold",
    "bounce_score_threshold": "bounce_score_threshold",
    "bounce_you_are_disabled_warnings": "bounce_you_are_disabled_warnings",
}
# Numeric codes, as Defaults.py and the list's admin pages define them.
_CODES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "reply_goes_to_list": (
        "reply_goes_to_list",
        ("no_munging", "point_to_list", "explicit_header"),
    ),
    "subscribe_policy": (
        "subscription_policy",
        ("open", "confirm", "moderate", "confirm_then_moderate"),
    ),
    # 0: the member confirms; 1: a moderator approves too.
    "unsubscribe_policy": ("unsubscription_policy", ("confirm", "confirm_then_moderate")),
    "private_roster": ("member_roster_visibility", ("public", "members", "moderators")),
    "generic_nonmember_action": (
        "default_nonmember_action",
        ("accept", "hold", "reject", "discard"),
    ),
    "digest_volume_frequency": (
        "digest_volume_frequency",
        ("yearly", "monthly", "quarterly", "weekly", "daily"),
    ),
    "personalize": ("personalize", ("none", "individual", "full")),
    "news_moderation": ("newsgroup_moderation", ("none", "open_moderated", "moderated")),
    "filter_action": ("filter_action", ("discard", "reject", "forward", "preserve")),
    "autorespond_requests": (
        "autorespond_requests",
        ("none", "respond_and_discard", "respond_and_continue"),
    ),
    "dmarc_moderation_action": (
        "dmarc_mitigate_action",
        ("no_mitigation", "munge_from", "wrap_message", "reject", "discard"),
    ),
}
# Newline-separated text in 2.1, a list in Posthorn.
_LINES: Mapping[str, str] = {
    "acceptable_aliases": "acceptable_aliases",
    "filter_mime_types": "filter_types",
    "pass_mime_types": "pass_types",
    "filter_filename_extensions": "filter_extensions",
    "pass_filename_extensions": "pass_extensions",
}
_LISTS = ("accept_these_nonmembers", "hold_these_nonmembers", "reject_these_nonmembers",
          "discard_these_nonmembers")  # fmt: skip
# Seconds (or days) in 2.1, a duration with a unit in Posthorn.
_SECONDS = {
    "bounce_info_stale_after": "bounce_info_stale_after",
    "bounce_you_are_disabled_warnings_interval": "bounce_you_are_disabled_warnings_interval",
}

# Attributes with no counterpart, and the value that means "not used" (None: any).
UNMAPPED: Mapping[str, Any] = {
    "topics": [],
    "topics_enabled": 0,
    "topics_bodylines_limit": None,
    "umbrella_list": 0,
    "regular_exclude_lists": [],
    "regular_include_lists": [],
    "encode_ascii_prefixes": 0,
    "scrub_nondigest": 0,
    "nondigestable": 1,
    "digest_header": "",
    "digest_footer": "",
    "welcome_msg": "",
    "goodbye_msg": "",
    "mod_password": None,
    "password": None,
    "post_password": None,
    "member_moderation_notice": "",
    "nonmember_rejection_notice": "",
    "forward_auto_discards": 1,
    "send_reminders": 1,
    "obscure_addresses": 1,
    "subscribe_auto_approval": [],
    "default_member_moderation": 0,
}

# 2.1 header and footer placeholders (``%(name)s``) and Posthorn's names for them.
_PLACEHOLDERS = {
    "real_name": "display_name",
    "list_name": "list_name",
    "_internal_name": "list_name",
    "host_name": "mail_host",
    "description": "description",
    "info": "info",
}


def placeholders(text: str) -> str:
    """2.1's ``%(real_name)s`` placeholders as Posthorn's ``$display_name``."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return "$" + _PLACEHOLDERS.get(name, name)

    return re.sub(r"%\((\w+)\)s", replace, text)


def _days(value: Any) -> str:
    return f"{int(value)}d"


def _seconds(value: Any) -> str:
    seconds = int(value)
    return f"{seconds // 86400}d" if seconds % 86400 == 0 else f"{seconds}s"


def _archive(config: Mapping[str, Any]) -> str:
    if not config.get("archive", 1):
        return "never"
    return "private" if config.get("archive_private", 0) else "public"


def _dmarc(config: Mapping[str, Any], settings: dict[str, Any]) -> None:
    """``from_is_list`` (munge or wrap every post) is Posthorn's unconditional mitigation."""
    from_is_list = int(config.get("from_is_list", 0) or 0)
    if from_is_list and settings.get("dmarc_mitigate_action", "no_mitigation") == "no_mitigation":
        settings["dmarc_mitigate_action"] = ("munge_from", "wrap_message")[min(from_is_list, 2) - 1]
        settings["dmarc_mitigate_unconditionally"] = True


_CONVERTERS: Mapping[str, tuple[str, Callable[[Any], Any]]] = {
    "autoresponse_graceperiod": ("autoresponse_grace_period", _days),
    "digest_size_threshhold": ("digest_size_threshold", float),
    "msg_header": ("header_text", placeholders),
    "msg_footer": ("footer_text", placeholders),
    "autorespond_admin": ("autorespond_owner", lambda v: "respond_and_continue" if v else "none"),
    **{old: (new, _seconds) for old, new in _SECONDS.items()},
}


def list_settings(config: Mapping[str, Any], where: str) -> tuple[dict[str, Any], list[Unmapped]]:
    """Posthorn's settings for a decoded 2.1 list, and what could not be mapped."""
    settings: dict[str, Any] = {"archive_policy": _archive(config)}
    unmapped: list[Unmapped] = []
    for old, value in config.items():
        if old in _SAME:
            settings[_SAME[old]] = str(value)
        elif old in _BOOLS:
            settings[_BOOLS[old]] = bool(value)
        elif old in _INTS:
            settings[_INTS[old]] = int(value)
        elif old in _CODES:
            new, choices = _CODES[old]
            if isinstance(value, int) and 0 <= value < len(choices):
                settings[new] = choices[value]
            else:
                unmapped.append(Unmapped(where, old, f"unknown code {value!r}"))
        elif old in _LINES:
            settings[_LINES[old]] = tuple(s.strip() for s in str(value).splitlines() if s.strip())
        elif old in _LISTS:
            settings[old] = tuple(str(item) for item in value)
        elif old in _CONVERTERS:
            new, convert = _CONVERTERS[old]
            settings[new] = convert(value)
        elif old in UNMAPPED and _in_use(value, UNMAPPED[old]):
            shown = "(set)" if "password" in old else _shown(value)
            unmapped.append(Unmapped(where, old, shown))
    if isinstance(settings.get("autorespond_postings"), bool):
        on = settings["autorespond_postings"]
        settings["autorespond_postings"] = "respond_and_continue" if on else "none"
    subject_prefix = str(config.get("subject_prefix", ""))
    settings["subject_prefix"] = subject_prefix.replace(
        "%(real_name)s", str(config.get("real_name", ""))
    )
    _dmarc(config, settings)
    return settings, unmapped


def _in_use(value: Any, unused: Any) -> bool:
    return bool(value) if unused is None else bool(value != unused)


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."
