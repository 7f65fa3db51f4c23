"""Make a Posthorn site match a described one: compare, then change only what differs.

Running it twice changes nothing the second time, and a run after changes on the old
site brings exactly those changes; nothing Posthorn has that the old site lacks is
removed (an import adds and updates, it never deletes).  Domains and lists go through
the managers, so their events fire (the MTA's tables are rewritten for new lists);
people, memberships and requests are compared and written in bulk on the model's
tables, since a site has hundreds of thousands of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from posthorn.errors import InvalidSettingError
from posthorn.importers.apply_people import (
    apply_addresses,
    apply_bounces,
    apply_members,
    apply_users,
)
from posthorn.importers.apply_requests import apply_held, apply_pendings
from posthorn.importers.apply_rules import apply_bans, apply_header_matches, apply_templates
from posthorn.importers.description import ListData, SiteData
from posthorn.importers.tally import Tally
from posthorn.model.domains import DomainOwnerRow
from posthorn.model.lists import MailingListRow
from posthorn.model.settings import check_settings

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["apply"]

# Counters and dates a list keeps that no one sets through its settings.
_COUNTERS = ("created_at", "post_id", "volume", "next_digest_number")


def apply(site: Site, data: SiteData, tally: Tally) -> Tally:
    """Bring ``data`` into ``site``; with ``tally.dry_run`` only report what would change."""
    _domains(site, data, tally)
    remap = apply_users(site, data.users, tally)
    apply_addresses(site, data.addresses, remap, tally)
    for mlist in data.lists:
        exists = _list(site, mlist, tally)
        apply_members(site, mlist, exists, tally)
        apply_bounces(site, mlist, tally)
        apply_pendings(site, mlist, tally)
        apply_held(site, mlist, tally)
        apply_header_matches(site, mlist, tally)
        apply_templates(site, mlist, tally)
    apply_bans(site, data, tally)
    return tally


def _domains(site: Site, data: SiteData, tally: Tally) -> None:
    for domain in data.domains:
        exists = site.domains.get(domain.mail_host) is not None
        if exists:
            tally.unchanged("domains")
        else:
            tally.created("domains", domain.mail_host)
            if not tally.dry_run:
                site.domains.add(domain.mail_host, domain.description, domain.alias_domain)
        query = select(DomainOwnerRow.email).where(DomainOwnerRow.mail_host == domain.mail_host)
        with site.databases.session_factory("list")() as session:
            owners = set(session.scalars(query)) if exists else set()
        for email in domain.owners:
            if email in owners:
                tally.unchanged("domain owners")
                continue
            tally.created("domain owners", f"{email} of {domain.mail_host}")
            if not tally.dry_run:
                site.domains.add_owner(domain.mail_host, email)


def _checked(mlist: ListData, tally: Tally) -> dict[str, Any]:
    """The settings Posthorn accepts; a value it refuses is reported and left out."""
    checked: dict[str, Any] = {}
    for name, value in mlist.settings.items():
        try:
            checked.update(check_settings({name: value}))
        except InvalidSettingError as error:
            tally.problems.append(f"{mlist.fqdn_listname}: {name} not imported: {error}")
    return checked


def _list(site: Site, mlist: ListData, tally: Tally) -> bool:
    """Create or update one list's settings and counters; False if it is (still) absent."""
    settings = _checked(mlist, tally)
    current = site.lists.get(mlist.fqdn_listname)
    if current is None:
        tally.created("lists", mlist.fqdn_listname)
        if tally.dry_run:
            return False
        current = site.lists.create(mlist.fqdn_listname)
        site.lists.update(current, **settings)
        _counters(site, mlist)
        return True
    differing = sorted(name for name, value in settings.items() if getattr(current, name) != value)
    counters = [
        name
        for name in _COUNTERS
        if getattr(mlist, name) is not None and getattr(current, name) != getattr(mlist, name)
    ]
    if not differing and not counters:
        tally.unchanged("lists")
        return True
    tally.changed("lists", mlist.fqdn_listname, ", ".join(differing + counters))
    if not tally.dry_run:
        site.lists.update(current, **{name: settings[name] for name in differing})
        _counters(site, mlist)
    return True


def _counters(site: Site, mlist: ListData) -> None:
    """Post number, digest volume and number, creation date: read-only to everyone else."""
    values = {name: getattr(mlist, name) for name in _COUNTERS if getattr(mlist, name) is not None}
    if not values:
        return
    query = select(MailingListRow).where(MailingListRow.list_id == mlist.list_id)
    with site.databases.session_factory("list")() as session:
        row = session.scalar(query)
        if row is not None:
            for name, value in values.items():
                setattr(row, name, value)
