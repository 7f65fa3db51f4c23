"""Lists and their settings in the list slice's database: the list manager's lists part.

The settings are declared once, in ``interfaces/settings.py``; the row keeps the commonly used
ones as columns (so they can be queried and read at a glance in SQL) and every other
one in a JSON column.  The part knows nothing of members, pendings or post counts:
the manager (``list_manager.py``) composes it with them.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import JSON, Select, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.address import validate_list_name
from posthorn.errors import (
    DuplicateDomainError,
    DuplicateListError,
    InvalidListNameError,
    NoSuchDomainError,
    NoSuchListError,
)
from posthorn.events import ConfigurationChangeEvent, EventBus, ListCreatedEvent, ListDeletedEvent
from posthorn.model.base import ListBase, SessionFactory, UTCDateTime, page, utc_now
from posthorn.model.settings import ListSettings, check_settings

if TYPE_CHECKING:
    from posthorn.interfaces.domains import IDomainManager
    from posthorn.interfaces.lists import ListRef

__all__ = ["Forget", "Lists", "MailingList", "MailingListRow", "list_id_of", "no_such_list"]


class MailingListRow(ListBase):
    __tablename__ = "mailinglists"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[str] = mapped_column(String(255), index=True, unique=True)
    list_name: Mapped[str] = mapped_column(String(64))
    # The domain by name, checked through IDomainManager: no key into its table.
    mail_host: Mapped[str] = mapped_column(String(253), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    post_id: Mapped[int] = mapped_column(default=1)
    volume: Mapped[int] = mapped_column(default=1)
    next_digest_number: Mapped[int] = mapped_column(default=1)
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    digest_last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    usenet_watermark: Mapped[int | None] = mapped_column()
    # The commonly used settings (see ListSettings for types and defaults).
    display_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(String(1024))
    info: Mapped[str] = mapped_column(String(4096))
    subject_prefix: Mapped[str] = mapped_column(String(255))
    preferred_language: Mapped[str] = mapped_column(String(16))
    reply_to_address: Mapped[str] = mapped_column(String(254))
    moderator_password: Mapped[str | None] = mapped_column(String(255))
    posting_pipeline: Mapped[str] = mapped_column(String(64))
    owner_pipeline: Mapped[str] = mapped_column(String(64))
    posting_chain: Mapped[str] = mapped_column(String(64))
    owner_chain: Mapped[str] = mapped_column(String(64))
    default_member_action: Mapped[str] = mapped_column(String(16))
    default_nonmember_action: Mapped[str] = mapped_column(String(16))
    archive_policy: Mapped[str] = mapped_column(String(16))
    subscription_policy: Mapped[str] = mapped_column(String(32))
    unsubscription_policy: Mapped[str] = mapped_column(String(32))
    reply_goes_to_list: Mapped[str] = mapped_column(String(32))
    personalize: Mapped[str] = mapped_column(String(16))
    member_roster_visibility: Mapped[str] = mapped_column(String(16))
    dmarc_mitigate_action: Mapped[str] = mapped_column(String(16))
    advertised: Mapped[bool] = mapped_column()
    emergency: Mapped[bool] = mapped_column()
    anonymous_list: Mapped[bool] = mapped_column()
    allow_list_posts: Mapped[bool] = mapped_column()
    include_rfc2369_headers: Mapped[bool] = mapped_column()
    first_strip_reply_to: Mapped[bool] = mapped_column()
    require_explicit_destination: Mapped[bool] = mapped_column()
    admin_immed_notify: Mapped[bool] = mapped_column()
    send_welcome_message: Mapped[bool] = mapped_column()
    send_goodbye_message: Mapped[bool] = mapped_column()
    digests_enabled: Mapped[bool] = mapped_column()
    max_message_size: Mapped[int] = mapped_column()
    max_num_recipients: Mapped[int] = mapped_column()
    # Every other setting, by name; a setting missing here reads its default.
    extra_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


_SETTINGS = tuple(field.name for field in dataclasses.fields(ListSettings))
_COLUMNS = frozenset(_SETTINGS) & frozenset(MailingListRow.__table__.columns.keys())


@dataclass(frozen=True, kw_only=True)
class MailingList(ListSettings):
    list_name: str
    mail_host: str
    created_at: datetime
    post_id: int = 1
    volume: int = 1
    next_digest_number: int = 1
    last_post_at: datetime | None = None
    digest_last_sent_at: datetime | None = None
    usenet_watermark: int | None = None

    @property
    def list_id(self) -> str:
        return f"{self.list_name}.{self.mail_host}"

    @property
    def fqdn_listname(self) -> str:
        return f"{self.list_name}@{self.mail_host}"

    @property
    def posting_address(self) -> str:
        return self.fqdn_listname

    @property
    def request_address(self) -> str:
        return f"{self.list_name}-request@{self.mail_host}"

    @property
    def owner_address(self) -> str:
        return f"{self.list_name}-owner@{self.mail_host}"

    @property
    def bounces_address(self) -> str:
        return f"{self.list_name}-bounces@{self.mail_host}"

    @property
    def join_address(self) -> str:
        return f"{self.list_name}-join@{self.mail_host}"

    @property
    def leave_address(self) -> str:
        return f"{self.list_name}-leave@{self.mail_host}"

    @property
    def no_reply_address(self) -> str:
        return f"noreply@{self.mail_host}"

    @classmethod
    def of(cls, row: MailingListRow) -> Self:
        stored = row.extra_settings or {}
        settings: dict[str, Any] = {}
        for name in _SETTINGS:
            if name in _COLUMNS:
                settings[name] = getattr(row, name)
            elif name in stored:
                value = stored[name]
                settings[name] = tuple(value) if isinstance(value, list) else value
        return cls(
            list_name=row.list_name,
            mail_host=row.mail_host,
            created_at=row.created_at,
            post_id=row.post_id,
            volume=row.volume,
            next_digest_number=row.next_digest_number,
            last_post_at=row.last_post_at,
            digest_last_sent_at=row.digest_last_sent_at,
            usenet_watermark=row.usenet_watermark,
            **settings,
        )


def _store(row: MailingListRow, settings: dict[str, Any]) -> None:
    """Write checked settings to their columns or, for the rest, the JSON column."""
    extra = dict(row.extra_settings or {})
    for name, value in settings.items():
        if name in _COLUMNS:
            setattr(row, name, value)
        else:
            extra[name] = list(value) if isinstance(value, tuple) else value
    # A new dict, so the ORM sees the JSON column change.
    row.extra_settings = extra


def list_id_of(ref: ListRef) -> str | None:
    """The list-id for a posting address, list-id or list; None if it cannot be one."""
    if not isinstance(ref, str):
        return ref.list_id
    if "@" not in ref:
        return ref.lower()
    try:
        return validate_list_name(ref).list_id
    except InvalidListNameError:
        return None


def no_such_list(ref: ListRef, list_id: str | None) -> NoSuchListError:
    """The error for a list that is not there, naming it as the caller did."""
    return NoSuchListError(f"no such list: {ref if isinstance(ref, str) else list_id}")


# Drops whatever another part keeps under a list-id, in the list's deleting transaction.
Forget = Callable[[Session, str], None]


class Lists:
    """The lists part of the list manager (see IListManager for the contract)."""

    def __init__(
        self,
        session: SessionFactory,
        events: EventBus,
        domains: Callable[[], IDomainManager],
        forget: Sequence[Forget],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._session = session
        self._events = events
        # A callable: the domain manager is built on first use, and needs the list manager.
        self._domains = domains
        # The other parts' records of a list, dropped with it.
        self._forget = tuple(forget)
        self._now = clock

    def _row(self, session: Session, ref: ListRef) -> MailingListRow:
        list_id = list_id_of(ref)
        row = None
        if list_id is not None:
            row = session.scalar(select(MailingListRow).where(MailingListRow.list_id == list_id))
        if row is None:
            raise no_such_list(ref, list_id)
        return row

    def existing_list_id(self, mlist: ListRef) -> str:
        """The list-id of a list that exists (NoSuchListError otherwise).

        Reads the one column: loading every setting of the list, as ``require`` does,
        was a third of the cost of a subscription.
        """
        list_id = list_id_of(mlist)
        query = select(MailingListRow.list_id).where(MailingListRow.list_id == list_id)
        with self._session() as session:
            found = None if list_id is None else session.scalar(query)
        if found is None:
            raise no_such_list(mlist, list_id)
        return found

    def _ensure_domain(self, mail_host: str, create: bool) -> None:
        domains = self._domains()
        if domains.get(mail_host) is not None:
            return
        if not create:
            raise NoSuchDomainError(f"no domain {mail_host}; add it first")
        # Added by someone else meanwhile is as good as added by us.
        with contextlib.suppress(DuplicateDomainError):
            domains.add(mail_host)

    def create(self, fqdn_listname: str, *, create_domain: bool = True) -> MailingList:
        """A new list with the default settings, and no owners (the manager adds them)."""
        name = validate_list_name(fqdn_listname)
        if self.get(name.list_id) is not None:
            raise DuplicateListError(f"list {name.fqdn_listname} exists already")
        self._ensure_domain(name.mail_host, create_domain)
        with self._session() as session:
            row = MailingListRow(
                list_id=name.list_id,
                list_name=name.list_name,
                mail_host=name.mail_host,
                created_at=self._now(),
                extra_settings={},
            )
            _store(row, ListSettings.for_list(name.list_name).as_dict())
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise DuplicateListError(f"list {name.fqdn_listname} exists already") from None
            mlist = MailingList.of(row)
        self._events.notify(ListCreatedEvent(mlist.list_id, mlist.fqdn_listname))
        return mlist

    def get(self, name: str) -> MailingList | None:
        try:
            return self.require(name)
        except NoSuchListError:
            return None

    def require(self, mlist: ListRef) -> MailingList:
        with self._session() as session:
            return MailingList.of(self._row(session, mlist))

    def remove(self, mlist: ListRef) -> None:
        with self._session() as session:
            row = self._row(session, mlist)
            list_id, fqdn = row.list_id, f"{row.list_name}@{row.mail_host}"
            for forget in self._forget:
                forget(session, list_id)
            session.delete(row)
        self._events.notify(ListDeletedEvent(list_id, fqdn))

    def _filtered(self, query: Select[Any], mail_host: str | None, advertised: bool | None) -> Any:
        if mail_host is not None:
            query = query.where(MailingListRow.mail_host == mail_host.lower())
        if advertised is not None:
            query = query.where(MailingListRow.advertised == advertised)
        return query

    def lists(
        self,
        *,
        mail_host: str | None = None,
        advertised: bool | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[MailingList]:
        query = self._filtered(select(MailingListRow), mail_host, advertised)
        query = page(query.order_by(MailingListRow.list_id), offset, limit)
        with self._session() as session:
            return [MailingList.of(row) for row in session.scalars(query)]

    def count(self, *, mail_host: str | None = None, advertised: bool | None = None) -> int:
        query = self._filtered(select(func.count(MailingListRow.id)), mail_host, advertised)
        with self._session() as session:
            return int(session.scalar(query) or 0)

    def update(self, mlist: ListRef, **settings: Any) -> MailingList:
        checked = check_settings(settings)
        with self._session() as session:
            row = self._row(session, mlist)
            before = MailingList.of(row)
            changes = {
                name: (getattr(before, name), value)
                for name, value in checked.items()
                if getattr(before, name) != value
            }
            _store(row, {name: new for name, (_, new) in changes.items()})
            session.flush()
            after = MailingList.of(row)
        if changes:
            self._events.notify(ConfigurationChangeEvent(after.list_id, changes))
        return after
