"""Domains: the mail hosts lists live under."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

__all__ = ["IDomain", "IDomainManager"]


@runtime_checkable
class IDomain(Protocol):
    """A mail host, e.g. ``example.org``; lists are ``NAME@mail_host``."""

    @property
    def mail_host(self) -> str:
        """Lowercase; the domain's key."""

    @property
    def description(self) -> str: ...

    @property
    def alias_domain(self) -> str | None:
        """A private domain the MTA maps list addresses through (Postfix virtual), if any."""


class IDomainManager(Protocol):
    """Adds, finds and removes domains.

    Errors: InvalidAddressError (not a domain name or email), DuplicateDomainError,
    NoSuchDomainError, NotAMemberError (removing an owner the domain does not have).
    """

    def add(
        self, mail_host: str, description: str = "", alias_domain: str | None = None
    ) -> IDomain:
        """Register a mail host (stored lowercased)."""

    def get(self, mail_host: str) -> IDomain | None: ...

    def update(
        self, mail_host: str, *, description: str | None = None, alias_domain: str | None = None
    ) -> IDomain:
        """Change what is given (not None); an empty ``alias_domain`` removes the alias."""

    def remove(self, mail_host: str) -> None:
        """Remove the domain and every list under it (each list fires ListDeletedEvent)."""

    def domains(self) -> Sequence[IDomain]:
        """Every domain, ordered by mail host."""

    def add_owner(self, mail_host: str, email: str) -> None:
        """Make the address an owner of the domain (again is a no-op).

        Owners are kept by email; registering a user for it is the caller's choice.
        """

    def remove_owner(self, mail_host: str, email: str) -> None: ...

    def owners(self, mail_host: str) -> Sequence[str]:
        """The owners' emails, sorted."""
