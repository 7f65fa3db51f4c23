"""The default list manager: lists and their settings in the list slice's database.

Memberships (``members.py``) and pending confirmations (``pending.py``) are the other
two parts of the same manager.  The settings are declared once, in ``settings.py``;
the row keeps the commonly used ones as columns (so they can be queried and read at a
glance in SQL) and every other one in a JSON column.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self, cast

from sqlalchemy import JSON, Select, String, Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.address import normalize_email, validate_list_name
from posthorn.errors import (
    DuplicateDomainError,
    DuplicateListError,
    InvalidListNameError,
    NoSuchDomainError,
    NoSuchListError,
)
from posthorn.events import ConfigurationChangeEvent, EventBus, ListCreatedEvent, ListDeletedEvent
from posthorn.interfaces.messages import message_id_hash
from posthorn.model import autoresponses, bans, header_matches, post_counts
from posthorn.model.base import ListBase, SessionFactory, UTCDateTime, page, utc_now
from posthorn.model.members import MembershipMixin
from posthorn.model.pending import PendingMixin
from posthorn.model.settings import ListSettings, check_settings
from posthorn.model.template_uris import forget as forget_template_uris

if TYPE_CHECKING:
    from posthorn.interfaces.domains import IDomainManager
    from posthorn.interfaces.lists import ListRef
    from posthorn.interfaces.users import IUserManager
    from posthorn.site import Site

__all__ = ["DatabaseListManager", "MailingList", "MailingListRow"]


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
# The table itself, for the post counter's statements that bypass the ORM.
_LISTS = cast(Table, MailingListRow.__table__)
# The post counter's statement, built once (it runs for every post): it goes to the
# table, not through the ORM, as nothing of the row is in the session to keep in step.
_BUMP = (
    update(_LISTS)
    .where(_LISTS.c.list_id == bindparam("counted_list"))
    .values(post_id=_LISTS.c.post_id + 1, last_post_at=bindparam("counted_at"))
)
_BUMP_RETURNING = _BUMP.returning(_LISTS.c.post_id)


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


def _list_id(ref: ListRef) -> str | None:
    """The list-id for a posting address, list-id or list; None if it cannot be one."""
    if not isinstance(ref, str):
        return ref.list_id
    if "@" not in ref:
        return ref.lower()
    try:
        return validate_list_name(ref).list_id
    except InvalidListNameError:
        return None


class DatabaseListManager(MembershipMixin, PendingMixin):
    """IListManager over the list slice (see posthorn.interfaces.lists for the contract)."""

    def __init__(
        self,
        session: SessionFactory,
        events: EventBus,
        users: IUserManager,
        domains: Callable[[], IDomainManager],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._session = session
        self._events = events
        self._users = users
        # A callable: the domain manager is built on first use, and needs this one.
        self._domains = domains
        self._now = clock

    @classmethod
    def from_site(cls, site: Site) -> Self:
        return cls(
            site.databases.session_factory("list"), site.events, site.users, lambda: site.domains
        )

    def _row(self, session: Session, ref: ListRef) -> MailingListRow:
        list_id = _list_id(ref)
        row = None
        if list_id is not None:
            row = session.scalar(select(MailingListRow).where(MailingListRow.list_id == list_id))
        if row is None:
            raise NoSuchListError(f"no such list: {ref if isinstance(ref, str) else list_id}")
        return row

    def _ensure_domain(self, mail_host: str, create: bool) -> None:
        domains = self._domains()
        if domains.get(mail_host) is not None:
            return
        if not create:
            raise NoSuchDomainError(f"no domain {mail_host}; add it first")
        # Added by someone else meanwhile is as good as added by us.
        with contextlib.suppress(DuplicateDomainError):
            domains.add(mail_host)

    def create(
        self, fqdn_listname: str, *, owners: Sequence[str] = (), create_domain: bool = True
    ) -> MailingList:
        name = validate_list_name(fqdn_listname)
        # Check every owner before anything is written: no half-made list on a typo.
        owner_emails = list({normalize_email(owner): owner for owner in owners}.values())
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
        for owner in owner_emails:
            self.subscribe(mlist, owner, role="owner")
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
            self._delete_members(session, list_id)
            self._delete_pendings(session, list_id)
            for records in (post_counts, autoresponses, bans, header_matches):
                records.forget(session, list_id)
            forget_template_uris(session, list_id)
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

    def record_post(self, mlist: ListRef, message_id: str | None = None) -> int:
        list_id = _list_id(mlist)
        hashed = message_id_hash(message_id) if message_id and list_id else None
        try:
            # One transaction counts the post and records its number; this runs for
            # every post, so the common case (a message never counted) looks nothing up.
            with self._session() as session:
                return self._count(session, mlist, list_id, hashed)
        except IntegrityError:
            # The message was counted before (a redone entry, or another runner counting
            # it meanwhile): its number stands, and the rollback undid this count.
            assert list_id is not None and hashed is not None
            with self._session() as session:
                return int(post_counts.recorded(session, list_id, hashed) or 0) + 1

    def _count(
        self, session: Session, mlist: ListRef, list_id: str | None, hashed: str | None
    ) -> int:
        # The UPDATE finds the row by its list-id, without loading it first; it is one
        # statement, so concurrent runners never hand out the same number.
        post_id: int | None = None
        if list_id is not None:
            params = {"counted_list": list_id, "counted_at": self._now()}
            if session.get_bind().dialect.update_returning:
                post_id = session.scalar(_BUMP_RETURNING, params)
            elif getattr(session.execute(_BUMP, params), "rowcount", 0):
                post_id = self._post_id(session, list_id)
        if post_id is None:
            raise NoSuchListError(f"no such list: {mlist if isinstance(mlist, str) else list_id}")
        if hashed is not None and list_id is not None:
            # Fails on the primary key when the message was counted before.
            post_counts.remember(session, list_id, hashed, post_id - 1)
        return post_id

    def _post_id(self, session: Session, list_id: str) -> int | None:
        return session.scalar(
            select(MailingListRow.post_id).where(MailingListRow.list_id == list_id)
        )

    def post_number(self, mlist: ListRef, message_id: str | None = None) -> int:
        list_id = _list_id(mlist)
        with self._session() as session:
            if message_id and list_id is not None:
                number = post_counts.recorded(session, list_id, message_id_hash(message_id))
                if number is not None:
                    return number
            # Only the number, not the whole row: this runs for every numbered post.
            post_id = self._post_id(session, list_id) if list_id is not None else None
            if post_id is None:
                raise NoSuchListError(
                    f"no such list: {mlist if isinstance(mlist, str) else list_id}"
                )
            return post_id
