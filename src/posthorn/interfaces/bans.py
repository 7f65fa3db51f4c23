"""Bans: addresses (or ``^patterns``) kept off one list or off every list of the site.

A ban is either an email address, matched exactly and without regard to case, or a
regular expression starting with ``^``, matched against the whole address without
regard to case.  A ban with no list (``list_id`` None) is site-wide.  A banned address
can neither subscribe nor post (the ``banned-address`` rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

__all__ = ["IBan", "IBanManager"]


@runtime_checkable
class IBan(Protocol):
    @property
    def email(self) -> str:
        """The address, lowercased, or the ``^pattern`` as given."""

    @property
    def list_id(self) -> str | None:
        """The list the ban is on; None for a site-wide ban."""


class IBanManager(Protocol):
    """The bans of the whole site; ``list_id=None`` means the site-wide bans."""

    def ban(self, email: str, list_id: str | None = None) -> IBan:
        """Add a ban; DuplicateBanError if this exact ban exists, InvalidBanError if the
        ``^pattern`` does not compile or the address is not one."""

    def unban(self, email: str, list_id: str | None = None) -> None:
        """Remove this exact ban; NoSuchBanError if there is none."""

    def is_banned(self, email: str, list_id: str | None = None) -> bool:
        """The address is banned on this list (by the list's or the site's bans), or,
        with no list, by the site's bans."""

    def bans(
        self, list_id: str | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Sequence[IBan]:
        """The list's own bans (or the site's), sorted by ``email``."""

    def count(self, list_id: str | None = None) -> int: ...

    def forget_list(self, list_id: str) -> None:
        """Drop the bans of a list being deleted."""
