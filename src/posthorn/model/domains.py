"""The default domain manager: mail hosts in the list slice's database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from posthorn.address import validate_domain
from posthorn.errors import DuplicateDomainError, NoSuchDomainError
from posthorn.model.base import ListBase, SessionFactory

if TYPE_CHECKING:
    from posthorn.interfaces.lists import IListManager
    from posthorn.site import Site

__all__ = ["DatabaseDomainManager", "Domain", "DomainRow"]


class DomainRow(ListBase):
    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_host: Mapped[str] = mapped_column(String(253), index=True, unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    alias_domain: Mapped[str | None] = mapped_column(String(253))


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

    def remove(self, mail_host: str) -> None:
        host = mail_host.lower()
        if self.get(host) is None:
            raise NoSuchDomainError(f"no domain {mail_host}")
        lists = self._lists()
        for mlist in lists.lists(mail_host=host):
            lists.remove(mlist)
        with self._session() as session:
            row = session.scalar(select(DomainRow).where(DomainRow.mail_host == host))
            if row is not None:
                session.delete(row)

    def domains(self) -> list[Domain]:
        with self._session() as session:
            query = select(DomainRow).order_by(DomainRow.mail_host)
            return [Domain.of(row) for row in session.scalars(query)]
