"""The built-in rules, one per module, and the little they share.

Each module defines one rule class; the registry's ``rule`` table names them.  A rule
is built with the Site (``RuleClass(site)``) once per posting chain, so it may keep
caches (the DMARC rule keeps its DNS cache) for the runner's life.

While a chain decides one post (``one_decision``), what several rules ask alike -- the
sender's address, the sender's rows on the roster -- is worked out once and shared
(``memoized``); outside a decision every call computes afresh.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.message import Message
from string import Template
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from posthorn.i18n import Translator
from posthorn.interfaces.lists import IMailingList, IMember
from posthorn.messages.charsets import decode_text
from posthorn.sender import sender_address

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = [
    "ACTIONS",
    "Rule",
    "add_reason",
    "leading_lines",
    "matches_address",
    "memoized",
    "one_decision",
    "reasons_in",
    "sender_memberships",
    "sender_of",
    "set_action",
    "text_of",
    "text_payload",
    "text_payload_changed",
]

ACTIONS = ("accept", "hold", "reject", "discard", "defer")

T = TypeVar("T")
# The answers shared by the rules deciding one post; None outside a decision.
_decision: ContextVar[dict[Hashable, Any] | None] = ContextVar("posthorn_decision", default=None)
# Compiled ``^regex`` patterns of the *_these_nonmembers settings; None: not a regex.
_patterns: dict[str, re.Pattern[str] | None] = {}
_PATTERNS_MAX = 4096
# Characters of a text first split into lines when only its first lines are wanted.
_LEADING = 4096


@contextmanager
def one_decision() -> Iterator[None]:
    """Share ``memoized`` answers between the rules until the block ends."""
    token = _decision.set({})
    try:
        yield
    finally:
        _decision.reset(token)


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per ``key`` within one decision (every time outside one)."""
    memo = _decision.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]


def text_payload(part: Message) -> tuple[bytes, str | None] | None:
    """The decoded payload of ``part`` and its declared charset, None if it has none.

    Several rules read the first text part (approved, administrivia); finding its
    transfer encoding and charset walks its fields and parses its Content-Type each time.
    """

    def decode() -> tuple[bytes, str | None] | None:
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return None
        return payload, part.get_content_charset()

    return memoized(("text-payload", id(part)), decode)


def text_of(part: Message, default: str = "us-ascii") -> str | None:
    """The payload of ``part`` decoded (``decode_text``; ``default`` where no charset is
    declared), None if it has none.  Shared like ``text_payload``: the approved and
    administrivia rules both read the first text part, and decoding a long body is
    the dearer half of reading it."""
    found = text_payload(part)
    if found is None:
        return None
    payload, charset = found
    # Keyed by the codec asked for: two defaults give the same text where the part
    # declares its charset.
    codec = charset or default
    return memoized(("text", id(part), codec), lambda: decode_text(payload, codec))


def text_payload_changed(part: Message) -> None:
    """Say that a rule changed the payload of ``part``: ``text_payload`` reads it anew."""
    memo = _decision.get()
    if memo is not None:
        memo.pop(("text-payload", id(part)), None)
        for key in [k for k in memo if k[:2] == ("text", id(part))]:  # type: ignore[index]
            del memo[key]


def leading_lines(text: str, count: int) -> list[str]:
    """The first ``count`` non-blank lines of ``text``, as ``str.splitlines`` cuts them.

    Rules look at the first few lines of a body only: splitting a long body whole was
    most of their time on it.  A prefix is split instead, growing until it holds
    enough lines; its last line may be cut short (or be the ``\r`` of a ``\r\n``
    pair), so it is not counted until the prefix is the whole text.
    """
    size = _LEADING
    while True:
        whole = size >= len(text)
        lines = text.splitlines() if whole else text[:size].splitlines()[:-1]
        found = [line for line in lines if line.strip()]
        if whole or len(found) >= count:
            return found[:count]
        size *= 4


def sender_of(msg: Message) -> str | None:
    """``sender_address(msg)``; two strict parses of From, so worth sharing."""
    # The rules only read the message, so within one decision it stays the same object.
    return memoized(("sender", id(msg)), lambda: sender_address(msg))


def sender_memberships(site: Any, mlist: IMailingList, address: str) -> list[IMember]:
    """Every row (any role) ``address`` has on the list, in one query per decision."""
    list_id = mlist.list_id

    def lookup() -> list[IMember]:
        return list(site.lists.find_members(list_id=list_id, email=address))

    key = ("memberships", list_id, address)
    return memoized(key, lambda: list(site.cache.get(key, lookup)))


class Rule:
    """Base for the built-in rules: keeps the site; subclasses set the class attributes."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    action: ClassVar[str] = "hold"
    record: ClassVar[bool] = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        raise NotImplementedError


def add_reason(msgdata: dict[str, Any], reason: str, **values: object) -> None:
    """Keep why a post was moderated, for the held record and the notices.

    ``reason`` is a sentence marked with ``_`` whose ``$placeholders`` come from
    ``values``.  The English sentence goes to ``moderation_reasons`` (the held record,
    the logs, the REST API); the sentence and its values also go to ``reason_texts``,
    so each notice can give the reason in its reader's language (``reasons_in``).
    """
    filled = {name: str(value) for name, value in values.items()}
    msgdata.setdefault("moderation_reasons", []).append(Template(reason).safe_substitute(filled))
    msgdata.setdefault("reason_texts", []).append([reason, filled])


def reasons_in(msgdata: dict[str, Any], translate: Translator) -> list[str]:
    """The moderation reasons in ``translate``'s language; those added as plain text stay."""
    texts = {
        Template(sentence).safe_substitute(values): (sentence, values)
        for sentence, values in msgdata.get("reason_texts", [])
    }
    found: list[str] = []
    for reason in msgdata.get("moderation_reasons", []):
        sentence, values = texts.get(reason, (str(reason).replace("$", "$$"), {}))
        found.append(translate(sentence, **values))
    return found


def set_action(msgdata: dict[str, Any], action: str) -> None:
    """Tell the posting chain what this hit means, overriding the rule's ``action``."""
    msgdata["moderation_action"] = action


def matches_address(address: str | None, patterns: Any) -> bool:
    """True if the address equals a pattern, or matches one that starts with ``^``.

    A pattern that is not a valid regular expression never matches (it cannot have
    been meant to match everything).
    """
    if not address:
        return False
    for pattern in patterns:
        text = str(pattern).strip()
        if text.startswith("^"):
            compiled = _compiled(text)
            if compiled is not None and compiled.match(address):
                return True
        elif text.lower() == address.lower():
            return True
    return False


def _compiled(text: str) -> re.Pattern[str] | None:
    """``text`` compiled case-insensitively (cached), or None if it is not a regex."""
    if text not in _patterns:
        if len(_patterns) >= _PATTERNS_MAX:
            _patterns.clear()
        try:
            _patterns[text] = re.compile(text, re.IGNORECASE)
        except re.error:
            _patterns[text] = None
    return _patterns[text]
