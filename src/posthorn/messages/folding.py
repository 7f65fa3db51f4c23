"""compat32 with its header folding remembered: the same header is folded once.

A post is serialised several times on its way (each queue it enters, the digest
mailbox, the SMTP wire), and under compat32 every serialisation folds every header
afresh through ``email.header.Header``: about half the cost of writing a small post.
Most headers are the same each time (only a handler's changes differ), and folding is
a pure function of the header's name and value and the policy's line ending, line
length and whether it must sanitise 8-bit data, so a fold done once is reused
verbatim; a field of plain characters that fits on its line, which ``Header`` would
write unchanged, skips it altogether.  The output is byte for byte what ``compat32``
writes (``tests/messages/test_folding.py``).
"""

from __future__ import annotations

import re
from email.policy import Compat32

from posthorn.messages.parsed import PostMessage

__all__ = ["CACHED_COMPAT32", "CachedCompat32"]

# Enough for the headers of the posts in flight; cleared whole when full, so a stream of
# unique values (Message-IDs) cannot make it grow.
_MAX_ENTRIES = 4096
_folded: dict[tuple[str, str, bool, str, int | None], str] = {}


# Characters ``email.header.Header`` writes as they are: printable ASCII and tab (it
# splits lines at the other controls, as ``str.splitlines`` does).
_NOT_PLAIN = re.compile(r"[^\t\x20-\x7e]")
# What compat32 means by "no limit" (``Header.encode`` with a max line length of 0).
_NO_LIMIT = 1_000_000


class CachedCompat32(Compat32):
    """``compat32``, remembering folded headers (see the module docstring)."""

    def fold_binary(self, name: str, value: str) -> bytes:
        # compat32's own, with the commonest case first: a plain field that fits its
        # line, written as it is (as by _fold below) without a call more per field.
        if (
            type(value) is str
            and len(name) + 2 + len(value) <= (self.max_line_length or _NO_LIMIT)
            and not _NOT_PLAIN.search(value)
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii", "surrogateescape")
        return self._fold(name, value, self.cte_type == "7bit").encode("ascii", "surrogateescape")

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if type(value) is not str:
            # A Header object (or anything else) folds as compat32 does, uncached.
            return super()._fold(name, value, sanitize)  # type: ignore[misc,no-any-return]
        # A field of plain characters that fits on its line comes out as it is: most
        # fields, and the ones unique to a post (Message-ID, Date) miss the cache.
        limit = self.max_line_length or _NO_LIMIT
        if len(name) + 2 + len(value) <= limit and not _NOT_PLAIN.search(value):
            return f"{name}: {value}{self.linesep}"
        key = (name, value, sanitize, self.linesep, self.max_line_length)
        folded = _folded.get(key)
        if folded is None:
            folded = super()._fold(name, value, sanitize)  # type: ignore[misc]
            if len(_folded) >= _MAX_ENTRIES:
                _folded.clear()
            _folded[key] = folded
        return folded


# What the queues parse is a PostMessage (messages/parsed.py).
CACHED_COMPAT32 = CachedCompat32(message_factory=PostMessage)
