"""The default list manager: the lists, memberships, pendings and post counter, composed.

Each part is a class of its own with its own collaborators, and none imports another:
the manager builds them, hands the memberships the lists' check that a list exists,
and hands the lists what each other part keeps under a list-id, to drop when a list
goes.  The manager's own code is what spans parts: a new list's owners.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Self

from posthorn.address import normalize_email, validate_list_name
from posthorn.events import EventBus
from posthorn.model import autoresponses, bans, header_matches, members, post_counts, template_uris
from posthorn.model.base import SessionFactory, utc_now
from posthorn.model.lists import Forget, Lists, MailingList
from posthorn.model.memberships import Memberships
from posthorn.model.pending import Pendings
from posthorn.model.post_counts import PostCounter

if TYPE_CHECKING:
    from posthorn.interfaces.domains import IDomainManager
    from posthorn.interfaces.users import IUserManager
    from posthorn.site import Site

__all__ = ["DatabaseListManager"]


class DatabaseListManager:
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
        pendings = Pendings(session, clock=clock)
        # Every record that names a list by its list-id goes when the list goes.
        forget: list[Forget] = [members.forget, pendings.forget, post_counts.forget]
        forget += [autoresponses.forget, bans.forget, header_matches.forget, template_uris.forget]
        lists = Lists(session, events, domains, forget, clock=clock)
        memberships = Memberships(session, events, users, lists.existing_list_id)
        posts = PostCounter(session, clock=clock)
        # Every other operation is one part's own, bound once: a call costs no extra hop.
        self.get = lists.get
        self.require = lists.require
        self.remove = lists.remove
        self.lists = lists.lists
        self.count = lists.count
        self.update = lists.update
        self.record_post = posts.record_post
        self.post_number = posts.post_number
        self.settle_posts = posts.settle
        self.subscribe = memberships.subscribe
        self.unsubscribe = memberships.unsubscribe
        self.roster = memberships.roster
        self.find_members = memberships.find_members
        self.get_member = memberships.get_member
        self.update_member = memberships.update_member
        self.change_address = memberships.change_address
        self.member_preferences = memberships.member_preferences
        self.set_member_preferences = memberships.set_member_preferences
        self.add_pending = pendings.add_pending
        self.get_pending = pendings.get_pending
        self.confirm = pendings.confirm
        self.pendings = pendings.pendings
        self.evict_expired = pendings.evict_expired
        self._lists = lists

    @classmethod
    def from_site(cls, site: Site) -> Self:
        return cls(
            site.databases.session_factory("list"), site.events, site.users, lambda: site.domains
        )

    def create(
        self, fqdn_listname: str, *, owners: Sequence[str] = (), create_domain: bool = True
    ) -> MailingList:
        validate_list_name(fqdn_listname)
        # Check every owner before anything is written: no half-made list on a typo.
        owner_emails = list({normalize_email(owner): owner for owner in owners}.values())
        mlist = self._lists.create(fqdn_listname, create_domain=create_domain)
        for owner in owner_emails:
            self.subscribe(mlist, owner, role="owner")
        return mlist
