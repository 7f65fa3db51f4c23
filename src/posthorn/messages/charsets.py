"""Decoding mail text whose declared charset may be wrong or unknown.

A charset name comes from the sender: ``charset=x-no-such`` must not stop a rule or a
runner.  An unknown charset is read as UTF-8 with replacement characters, the way
RFC 2047 words in an unknown charset are treated (``unknown-8bit``): the text is for
looking at (commands, passwords, digests), never written back in place of the original.
"""

from __future__ import annotations

import codecs

__all__ = ["decode_text"]


def decode_text(payload: bytes, charset: str | None, default: str = "us-ascii") -> str:
    """``payload`` as text in ``charset`` (``default`` if none), never raising."""
    name = charset or default
    try:
        codecs.lookup(name)
    except (LookupError, ValueError):
        name = "utf-8"
    return payload.decode(name, errors="replace")
