"""The default domain manager."""

from __future__ import annotations

import pytest

from posthorn.errors import (
    DuplicateDomainError,
    InvalidAddressError,
    NoSuchDomainError,
    NotAMemberError,
)
from posthorn.events import Event, ListDeletedEvent
from posthorn.interfaces.domains import IDomain
from posthorn.site import Site


def test_add_get_and_iterate(site: Site) -> None:
    domain = site.domains.add("Example.ORG", "The example", alias_domain="lists.internal.example")
    assert isinstance(domain, IDomain)
    assert (domain.mail_host, domain.description) == ("example.org", "The example")
    assert domain.alias_domain == "lists.internal.example"
    site.domains.add("a.example")
    assert [d.mail_host for d in site.domains.domains()] == ["a.example", "example.org"]
    assert site.domains.get("EXAMPLE.org") == domain
    assert site.domains.get("nope.example") is None


def test_bad_and_duplicate_domains(site: Site) -> None:
    site.domains.add("example.org")
    with pytest.raises(DuplicateDomainError):
        site.domains.add("EXAMPLE.org")
    for bad in ("localhost", "exa mple.org", "-x.example", "example..org", ""):
        with pytest.raises(InvalidAddressError):
            site.domains.add(bad)
    with pytest.raises(NoSuchDomainError):
        site.domains.remove("nope.example")


def test_removing_a_domain_removes_its_lists(site: Site, recorded_events: list[Event]) -> None:
    site.lists.create("a@example.org")
    site.lists.create("b@example.org")
    site.lists.create("c@other.example")
    site.domains.remove("example.org")
    assert site.domains.get("example.org") is None
    assert [m.list_id for m in site.lists.lists()] == ["c.other.example"]
    deleted = [e.list_id for e in recorded_events if isinstance(e, ListDeletedEvent)]
    assert deleted == ["a.example.org", "b.example.org"]


def test_owners_are_kept_by_email(site: Site) -> None:
    site.domains.add("example.org")
    site.domains.add("other.example")
    site.domains.add_owner("example.org", "Bob@Example.com")
    site.domains.add_owner("EXAMPLE.org", "anne@example.com")
    site.domains.add_owner("example.org", "anne@example.com")  # again: no change
    site.domains.add_owner("other.example", "carl@example.com")
    assert site.domains.owners("example.org") == ["anne@example.com", "bob@example.com"]
    site.domains.remove_owner("example.org", "BOB@example.com")
    assert site.domains.owners("example.org") == ["anne@example.com"]
    with pytest.raises(NotAMemberError):
        site.domains.remove_owner("example.org", "bob@example.com")
    with pytest.raises(NoSuchDomainError):
        site.domains.add_owner("nope.example", "anne@example.com")
    with pytest.raises(InvalidAddressError):
        site.domains.add_owner("example.org", "not an address")


def test_removing_a_domain_removes_its_owners(site: Site) -> None:
    site.domains.add("example.org")
    site.domains.add_owner("example.org", "anne@example.com")
    site.domains.remove("example.org")
    site.domains.add("example.org")
    assert site.domains.owners("example.org") == []
