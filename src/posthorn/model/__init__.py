"""The default, SQLAlchemy-backed implementations of the data interfaces.

Three slices, each with its own MetaData (see ``base.py``): ``metadata(slice)`` imports
the slice's table modules so the MetaData is complete, for migrations and their tests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sqlalchemy import MetaData

from posthorn.model.base import SLICES, ListBase, MessageBase, UserBase

__all__ = ["SLICES", "metadata"]

_TABLE_MODULES = {
    "user": ("posthorn.model.users",),
    "list": (
        "posthorn.model.domains",
        "posthorn.model.lists",
        "posthorn.model.members",
        "posthorn.model.memberships",
        "posthorn.model.list_manager",
        "posthorn.model.pending",
        "posthorn.model.bounces",
        "posthorn.model.post_counts",
        "posthorn.model.bans",
        "posthorn.model.header_matches",
        "posthorn.model.template_uris",
        "posthorn.model.autoresponses",
    ),
    "message": (
        "posthorn.model.messages",
        "posthorn.model.held",
        "posthorn.model.job_runs",
        "posthorn.model.delivery_records",
        "posthorn.model.digest_posts",
        "posthorn.model.news_watermarks",
    ),
}
_BASES = {"user": UserBase, "list": ListBase, "message": MessageBase}


def metadata(slice_: str) -> MetaData:
    """The complete MetaData of one slice: ``user``, ``list`` or ``message``."""
    for module in _TABLE_MODULES[slice_]:
        importlib.import_module(module)
    return _BASES[slice_].metadata


if TYPE_CHECKING:
    # Not run: lets mypy prove each default implementation satisfies its interface.
    from posthorn.interfaces.domains import IDomain, IDomainManager
    from posthorn.interfaces.lists import IListManager, IMailingList, IMember, IPending, IRoster
    from posthorn.interfaces.messages import IHeldMessage, IMessageStore
    from posthorn.interfaces.users import IAddress, IUser, IUserManager
    from posthorn.model.domains import DatabaseDomainManager, Domain
    from posthorn.model.held import HeldMessage
    from posthorn.model.list_manager import DatabaseListManager
    from posthorn.model.lists import MailingList
    from posthorn.model.members import DatabaseRoster, Member
    from posthorn.model.messages import DatabaseMessageStore
    from posthorn.model.pending import Pending
    from posthorn.model.users import Address, DatabaseUserManager, User

    def _managers(
        users: DatabaseUserManager,
        lists: DatabaseListManager,
        domains: DatabaseDomainManager,
        messages: DatabaseMessageStore,
    ) -> tuple[IUserManager, IListManager, IDomainManager, IMessageStore]:
        return users, lists, domains, messages

    def _shapes(
        user: User,
        address: Address,
        domain: Domain,
        mlist: MailingList,
        member: Member,
        roster: DatabaseRoster,
        pending: Pending,
        held: HeldMessage,
    ) -> tuple[IUser, IAddress, IDomain, IMailingList, IMember, IRoster, IPending, IHeldMessage]:
        return user, address, domain, mlist, member, roster, pending, held
