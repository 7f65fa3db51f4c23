"""Removing several header fields in one pass over the message's fields.

``del msg[name]`` walks every field, lowercasing each name, once per name deleted; the
handlers that clean a post (cleanse, cleanse-dkim, cook-headers) delete a dozen or more
names each, which made lowercasing header names the largest single cost of a small
post in the pipeline.  ``drop_headers`` does the same in one walk.

Reads and writes only the message given.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.message import Message

__all__ = ["drop_headers"]


def drop_headers(msg: Message, names: Iterable[str]) -> None:
    """Remove every field whose name is in ``names`` (any case), as ``del msg[name]`` does."""
    wanted = {name.lower() for name in names}
    # The field list is what Message.__delitem__ rewrites too (email.message).
    fields: list[tuple[str, object]] = msg._headers  # type: ignore[attr-defined]
    kept = [field for field in fields if field[0].lower() not in wanted]
    if len(kept) != len(fields):
        msg._headers = kept  # type: ignore[attr-defined]
