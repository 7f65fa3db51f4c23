"""Template URIs: where a site, a domain or a list keeps the text of a notice.

A front end (Postorius) stores its edited templates itself and gives the core their
URIs, by Mailman's template names (``list:user:notice:welcome``).  A URI belongs to a
context: a list (by list-id), a domain (by mail host) or the site (None).  Looking a
template up goes from the list to its domain to the site, the first URI found wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

__all__ = ["ITemplateUri", "ITemplateUris"]


@runtime_checkable
class ITemplateUri(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def context(self) -> str | None: ...
    @property
    def uri(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...


class ITemplateUris(Protocol):
    def set(
        self,
        name: str,
        context: str | None,
        uri: str,
        username: str | None = None,
        password: str | None = None,
    ) -> ITemplateUri:
        """Store (or replace) the URI of template ``name`` in ``context``."""

    def get(self, name: str, context: str | None) -> ITemplateUri | None: ...

    def lookup(
        self, names: Sequence[str], contexts: Sequence[str | None]
    ) -> Mapping[str, ITemplateUri]:
        """For each name, the URI of the first context (in the order given) that has one."""

    def of(self, context: str | None) -> Sequence[ITemplateUri]:
        """Every URI stored in the context, sorted by name."""

    def delete(self, name: str, context: str | None) -> bool:
        """Remove one; whether there was one."""

    def forget(self, context: str) -> None:
        """Drop every URI of a list or domain being deleted."""
