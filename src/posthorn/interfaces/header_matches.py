"""Header matches: a list's ordered header checks, each with its own action.

Each match names a header (stored lowercased), a regular expression searched for in
each of that header's values, an optional action (the chain a hit goes to: accept,
hold, reject, discard, defer; None means the ``header-match`` rule's own action) and
an optional tag.  Positions run 0..n-1 without gaps; the first match that hits decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

__all__ = ["HEADER_MATCH_ACTIONS", "IHeaderMatch", "IHeaderMatches"]

# The chains a header match may send a post to, as Mailman names them.
HEADER_MATCH_ACTIONS = ("hold", "reject", "discard", "accept", "defer")


@runtime_checkable
class IHeaderMatch(Protocol):
    @property
    def list_id(self) -> str: ...
    @property
    def position(self) -> int: ...
    @property
    def header(self) -> str: ...
    @property
    def pattern(self) -> str: ...
    @property
    def chain(self) -> str | None: ...
    @property
    def tag(self) -> str | None: ...


class IHeaderMatches(Protocol):
    """Every list's header matches (see the module for what one is)."""

    def of(self, list_id: str) -> Sequence[IHeaderMatch]:
        """The list's matches in position order."""

    def get(self, list_id: str, position: int) -> IHeaderMatch:
        """NoSuchHeaderMatchError if there is none at that position."""

    def append(
        self,
        list_id: str,
        header: str,
        pattern: str,
        chain: str | None = None,
        tag: str | None = None,
    ) -> IHeaderMatch:
        """Add at the end; DuplicateHeaderMatchError if the header and pattern exist,
        InvalidHeaderMatchError if the pattern does not compile or the action is unknown."""

    def change(self, list_id: str, position: int, /, **fields: object) -> IHeaderMatch:
        """Change ``header``, ``pattern``, ``chain``, ``tag`` or ``position`` (moving it
        shifts the matches in between); the changed match."""

    def remove(self, list_id: str, position: int) -> None:
        """Remove one match and close the gap."""

    def clear(self, list_id: str) -> None:
        """Remove every match of the list (also when the list is deleted)."""

    def find(
        self,
        list_id: str,
        *,
        header: str | None = None,
        chain: str | None = None,
        tag: str | None = None,
    ) -> Sequence[IHeaderMatch]:
        """The matches with these fields, in position order."""
