"""Every list setting, declared once: its name, type, default and kind of text.

``IListSettings`` is the one declaration.  From it follow the settings part of
``IMailingList`` (which extends it), the checks ``posthorn.model.settings.check_settings``
applies for every writer (REST, the command line, importers), the REST ``config`` fields
and their converters, and where the list model stores each value (a column if the table
has one, else the JSON column).  The annotation carries what a check needs:

- ``bool``, ``int``, ``float`` (never negative), ``str | None``, ``tuple[str, ...]``;
- a ``Literal`` of choices (the aliases below);
- ``str``: one line, because it can end up in a header (Subject, List-Id, From...):
  control characters are refused, and so are words too long to fold;
- ``BodyText``: a text of a message body or lines of rules: line breaks are kept (as LF);
- ``Duration``: a text with units as in the configuration (``90d``).

Names, choices and defaults follow GNU Mailman's REST ``config`` resource, so that web
front ends written for Mailman find the names and choices they expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Protocol

__all__ = [
    "DEFAULT_FOOTER",
    "Action",
    "ArchivePolicy",
    "ArchiveRenderingMode",
    "AutoResponse",
    "BodyText",
    "BounceForward",
    "DigestFrequency",
    "DmarcAction",
    "Duration",
    "FilterAction",
    "IListSettings",
    "NewsModeration",
    "Personalization",
    "ReplyTo",
    "RosterVisibility",
    "SubscriptionPolicy",
    "TextKind",
]

Action = Literal["hold", "reject", "discard", "accept", "defer"]
ArchivePolicy = Literal["never", "private", "public"]
SubscriptionPolicy = Literal["open", "confirm", "moderate", "confirm_then_moderate"]
ArchiveRenderingMode = Literal["text", "markdown"]
AutoResponse = Literal["none", "respond_and_discard", "respond_and_continue"]
DigestFrequency = Literal["yearly", "monthly", "quarterly", "weekly", "daily"]
DmarcAction = Literal["no_mitigation", "munge_from", "wrap_message", "reject", "discard"]
FilterAction = Literal["hold", "reject", "discard", "accept", "defer", "forward", "preserve"]
BounceForward = Literal["discard", "administrators", "site_owner"]
RosterVisibility = Literal["public", "members", "moderators"]
NewsModeration = Literal["none", "open_moderated", "moderated"]
Personalization = Literal["none", "individual", "full"]
ReplyTo = Literal["no_munging", "point_to_list", "explicit_header", "explicit_header_only"]


@dataclass(frozen=True)
class TextKind:
    """Marks a ``str`` setting that is not a one-line header text."""

    name: Literal["body", "duration"]


BodyText = Annotated[str, TextKind("body")]
Duration = Annotated[str, TextKind("duration")]

DEFAULT_FOOTER = (
    "_______________________________________________\n"
    "$display_name mailing list -- $fqdn_listname\n"
    "To unsubscribe send an email to $leave_email\n"
)


# Both a dataclass and a protocol, as the one declaration has two heirs: the model's
# value classes inherit its fields and defaults (only a dataclass base passes them on),
# and IMailingList extends it (a protocol may only extend protocols).  Implementations
# subclass it (posthorn.model.settings.ListSettings) rather than match it by shape, as
# the dataclass machinery is among its members.
@dataclass(frozen=True, kw_only=True, match_args=False)
class IListSettings(Protocol):
    """Every writable setting of a list; adding one is one line here."""

    # Text (one line unless BodyText).  display_name and subject_prefix get list-specific
    # defaults at creation.
    display_name: str = ""
    description: str = ""
    info: BodyText = ""
    subject_prefix: str = ""
    preferred_language: str = "en"
    reply_to_address: str = ""
    linked_newsgroup: str = ""
    autoresponse_owner_text: BodyText = ""
    autoresponse_postings_text: BodyText = ""
    autoresponse_request_text: BodyText = ""
    dmarc_moderation_notice: BodyText = ""
    dmarc_wrapped_message_text: BodyText = ""
    # "Header: regex" lines; a post with a matching header is held (Mailman's name).
    bounce_matching_headers: BodyText = ""
    moderator_password: str | None = None
    # Added above and below every post's body by the decorate handler ($list_name,
    # $display_name, ... placeholders).
    header_text: BodyText = ""
    footer_text: BodyText = DEFAULT_FOOTER
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
    autoresponse_grace_period: Duration = "90d"
    bounce_info_stale_after: Duration = "7d"
    bounce_you_are_disabled_warnings_interval: Duration = "7d"
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
