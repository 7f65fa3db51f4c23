"""Caps on one header field's text: the shapes the email package reads expensively.

The standard library's header parsers recurse once per nested comment (``getaddresses``
and ``email.headerregistry`` die with RecursionError near a thousand levels), slow down
with every encoded word, address and MIME parameter (``policy.default`` spends seconds
on a field of thousands), and nested groups, which RFC 5322 does not allow, send them
into deep recursion too.  A word (a run of characters without white space) longer than
``max_header_word`` cannot be folded under the SMTP line limit of 998 octets once a
runner writes the field again, so it is refused here, before anything is queued.

The scan is regular expressions (in C) plus a little Python per special character of
address, message-id and MIME fields; it follows quoting, escapes, comments and angle
brackets as RFC 5322 does, so a separator inside a quoted name is not counted.
``field_problem`` returns the LMTP reply refusing the field, or None.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from posthorn.intake.precheck import Limits

__all__ = ["field_problem"]

ADDRESS_FIELDS = frozenset(
    {
        b"from", b"sender", b"reply-to", b"to", b"cc", b"bcc", b"resent-from",
        b"resent-sender", b"resent-to", b"resent-cc", b"resent-bcc", b"return-path",
        b"mail-followup-to", b"mail-reply-to", b"disposition-notification-to", b"errors-to",
    }
)  # fmt: skip
ID_FIELDS = frozenset(
    {b"message-id", b"in-reply-to", b"references", b"resent-message-id", b"content-id"}
)
PARAM_FIELDS = frozenset({b"content-type", b"content-disposition"})
STRUCTURED_FIELDS = ADDRESS_FIELDS | ID_FIELDS | PARAM_FIELDS

_ENCODED_WORD = re.compile(rb"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_SPECIAL = re.compile(rb'\\.|[()"<>,:;]', re.DOTALL)
_FOLD = re.compile(rb"\r\n(?=[ \t])")
PREFIX = "554 5.6.0"


@cache
def _long_word(limit: int) -> re.Pattern[bytes]:
    return re.compile(rb"[^ \t\r\n]{%d}" % (limit + 1))


def field_problem(field: bytes, limits: Limits) -> str | None:
    """The reply refusing one header field (all its lines, CRLF ends), or None."""
    if (
        len(field) <= limits.max_header_word
        and field.count(b"=?") <= limits.max_encoded_words
        and field.split(b":", 1)[0].strip().lower() not in STRUCTURED_FIELDS
    ):
        # No word can be longer than the whole field, every encoded word starts "=?",
        # and only a structured field has more to check: nothing here can be refused.
        return None
    text = _FOLD.sub(b"", field).rstrip(b"\r\n")
    name = text.split(b":", 1)[0].strip().lower()
    # A reply line must stay short: a hostile name is shown cut.
    shown = name[:40].decode("ascii", "replace")
    problem = _word_problem(text, shown, limits.max_header_word)
    if problem is not None:
        return problem
    words = len(_ENCODED_WORD.findall(text))
    if words > limits.max_encoded_words:
        return f"{PREFIX} Too many encoded words in {shown} (limit {limits.max_encoded_words})"
    if name in PARAM_FIELDS and text.count(b";") > limits.max_mime_params:
        return f"{PREFIX} Too many MIME parameters in {shown} (limit {limits.max_mime_params})"
    if name in ADDRESS_FIELDS or name in ID_FIELDS or name in PARAM_FIELDS:
        value = text.split(b":", 1)[1] if b":" in text else b""
        return _Structure(shown, name in ADDRESS_FIELDS, limits).scan(value)
    return None


def _word_problem(text: bytes, shown: str, limit: int) -> str | None:
    """A word too long to fold under 998 (folding puts a long word on a line of its own)."""
    if _long_word(limit).search(text):
        return f"{PREFIX} Word too long in {shown} header (limit {limit} bytes)"
    return None


class _Structure:
    """One pass over an address, message-id or MIME field: comments, groups, addresses."""

    def __init__(self, shown: str, addresses: bool, limits: Limits) -> None:
        self.shown = shown
        self.addresses = addresses
        self.limits = limits

    def scan(self, value: bytes) -> str | None:
        limits, shown = self.limits, self.shown
        depth = angle = group = 0
        quoted = False
        count, start, longest = 0, 0, 0
        for match in _SPECIAL.finditer(value):
            token = match.group()
            if token[:1] == b"\\" or (quoted and token != b'"'):
                continue
            if token == b'"' and not depth:
                quoted = not quoted
            elif token == b"(":
                depth += 1
                if depth > limits.max_comment_depth:
                    limit = limits.max_comment_depth
                    return f"{PREFIX} Comments nested too deep in {shown} (limit {limit})"
            elif token == b")":
                depth = max(0, depth - 1)
            elif depth or not self.addresses:
                continue
            elif token in (b"<", b">"):
                angle = angle + 1 if token == b"<" else max(0, angle - 1)
            elif angle:
                continue
            elif token == b":":
                group += 1
                if group > 1:
                    return f"{PREFIX} Nested address groups in {shown}"
            elif token in (b",", b";"):
                group = group - 1 if token == b";" and group else group
                count, longest = self._address(value, start, match.start(), count, longest)
                start = match.end()
                if count > limits.max_addresses:
                    break
        if not self.addresses:
            return None
        count, longest = self._address(value, start, len(value), count, longest)
        if count > limits.max_addresses:
            return f"{PREFIX} Too many addresses in {shown} (limit {limits.max_addresses})"
        if longest > limits.max_address_size:
            limit = limits.max_address_size
            return f"{PREFIX} Address too long in {shown} (limit {limit} bytes)"
        return None

    @staticmethod
    def _address(value: bytes, start: int, end: int, count: int, longest: int) -> tuple[int, int]:
        """Count the address between two separators, unless it is empty."""
        if not value[start:end].strip():
            return count, longest
        return count + 1, max(longest, end - start)
