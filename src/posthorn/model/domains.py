"""The default domain manager: mail hosts in the list slice's database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from sqlalchemy import Index, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from posthorn.address import normalize_email, validate_domain
from posthorn.errors import DuplicateDomainError, NoSuchDomainError, NotAMemberError
from posthorn.model.base import ListBase, SessionFactory
from posthorn.model.template_uris import forget as forget_template_uris

if TYPE_CHECKING:
    from posthorn.interfaces.lists import IListManager
    from posthorn.site import Site

__all__ = ["DatabaseDomainManager", "Domain", "DomainOwnerRow", "DomainRow"]


class DomainRow(ListBase):
    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_host: Mapped[str] = mapped_column(String(253), index=True, unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    alias_domain: Mapped[str | None] = mapped_column(String(253))


class DomainOwnerRow(ListBase):
    """An owner of a domain, by email: who may create and run lists under it.

    The domain by its mail host and the owner by address, not by keys: the user slice
    may live elsewhere, and the REST API shows each owner as the user of that address.
    """

    __tablename__ = "domain_owners"
    __table_args__ = (Index(None, "mail_host", "email", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_host: Mapped[str] = mapped_column(String(253))
    email: Mapped[str] = mapped_column(String(254))


@dataclass(frozen=True)
class Domain:
    mail_host: str
    description: str
    alias_domain: str | None

    @classmethod
    def of(cls, row: DomainRow) -> Self:
        return cls(row.mail_host, row.description, row.alias_domain)


class DatabaseDomainManager:
    """IDomainManager over the list slice.

    Removing a domain removes its lists through the list manager's interface, so the
    lists' own clean-up and events happen whichever list manager the site uses.
    """

    def __init__(self, session: SessionFactory, lists: Callable[[], IListManager]) -> None:
        self._session = session
        # A callable, not the manager: the list manager needs this one to be built first.
        self._lists = lists

    @classmethod
    def from_site(cls, site: Site) -> Self:
        return cls(site.databases.session_factory("list"), lambda: site.lists)

    def add(self, mail_host: str, description: str = "", alias_domain: str | None = None) -> Domain:
        host = validate_domain(mail_host)
        alias = validate_domain(alias_domain) if alias_domain else None
        with self._session() as session:
            if session.scalar(select(DomainRow).where(DomainRow.mail_host == host)):
                raise DuplicateDomainError(f"domain {host} exists already")
            row = DomainRow(mail_host=host, description=description, alias_domain=alias)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise DuplicateDomainError(f"domain {host} exists already") from None
            return Domain.of(row)

    def get(self, mail_host: str) -> Domain | None:
        with self._session() as session:
            row = session.scalar(select(DomainRow).where(DomainRow.mail_host == mail_host.lower()))
            return None if row is None else Domain.of(row)

    def update(
        self, mail_host: str, *, description: str | None = None, alias_domain: str | None = None
    ) -> Domain:
        alias = validate_domain(alias_domain) if alias_domain else None
        with self._session() as session:
            row = session.scalar(select(DomainRow).where(DomainRow.mail_host == mail_host.lower()))
            if row is None:
                raise NoSuchDomainError(f"no domain {mail_host}")
            if description is not None:
                row.description = description
            if alias_domain is not None:
                row.alias_domain = alias
            return Domain.of(row)

    def remove(self, mail_host: str) -> None:
        host = mail_host.lower()
        if self.get(host) is None:
            raise NoSuchDomainError(f"no domain {mail_host}")
        lists = self._lists()
        for mlist in lists.lists(mail_host=host):
            lists.remove(mlist)
        with self._session() as session:
            session.execute(delete(DomainOwnerRow).where(DomainOwnerRow.mail_host == host))
            forget_template_uris(session, host)
            row = session.scalar(select(DomainRow).where(DomainRow.mail_host == host))
            if row is not None:
                session.delete(row)

    def domains(self) -> list[Domain]:
        with self._session() as session:
            query = select(DomainRow).order_by(DomainRow.mail_host)
            return [Domain.of(row) for row in session.scalars(query)]

    def _require(self, mail_host: str) -> str:
        host = mail_host.lower()
        if self.get(host) is None:
            raise NoSuchDomainError(f"no domain {mail_host}")
        return host

    def add_owner(self, mail_host: str, email: str) -> None:
        host, key = self._require(mail_host), normalize_email(email)
        with self._session() as session:
            query = select(DomainOwnerRow).where(
                DomainOwnerRow.mail_host == host, DomainOwnerRow.email == key
            )
            if session.scalar(query) is None:
                session.add(DomainOwnerRow(mail_host=host, email=key))

    def remove_owner(self, mail_host: str, email: str) -> None:
        host, key = self._require(mail_host), email.lower()
        with self._session() as session:
            result = session.execute(
                delete(DomainOwnerRow).where(
                    DomainOwnerRow.mail_host == host, DomainOwnerRow.email == key
                )
            )
            if not getattr(result, "rowcount", 0):
                raise NotAMemberError(f"{email} is not an owner of {host}")

    def owners(self, mail_host: str) -> list[str]:
        host = self._require(mail_host)
        query = select(DomainOwnerRow.email).where(DomainOwnerRow.mail_host == host)
        with self._session() as session:
            return list(session.scalars(query.order_by(DomainOwnerRow.email)))
