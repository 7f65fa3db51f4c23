"""The DMARC lookup against the loopback DNS responder, and the dmarc-mitigation rule."""

from __future__ import annotations

import email
from collections.abc import Iterator
from typing import Any

import pytest

from posthorn.dmarc import DmarcResolver, organizational_domain, parse_record
from posthorn.interfaces.lists import IMailingList
from posthorn.rules.dmarc_mitigation import DmarcMitigation
from posthorn.site import Site
from tests.dnsserver import DnsServer
from tests.incoming.fixtures import LIST, make_post

RECORDS = {
    "_dmarc.strict.example": ["v=DMARC1; p=reject; rua=mailto:d@strict.example"],
    "_dmarc.soft.example": ["v=DMARC1; p=none"],
    "_dmarc.parent.example": ["v=DMARC1; p=none; sp=quarantine"],
    "_dmarc.twice.example": ["v=DMARC1; p=reject", "v=DMARC1; p=none"],
}


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    with DnsServer(RECORDS) as server:
        yield server


def resolver(server: DnsServer, **options: Any) -> DmarcResolver:
    return DmarcResolver(["127.0.0.1"], server.port, timeout=options.get("timeout", 2.0),
                         cache_ttl=options.get("cache_ttl", 60.0))  # fmt: skip


def test_parse_record() -> None:
    assert parse_record(["v=DMARC1; p=Reject"]) == "reject"
    assert parse_record(["v=spf1 -all"]) is None
    assert parse_record(["v=DMARC1; p=none; sp=reject"], subdomain=True) == "reject"
    assert organizational_domain("a.b.example.org") == "example.org"


def test_policies_and_fallback(dns_server: DnsServer) -> None:
    lookup = resolver(dns_server)
    assert lookup.policy("strict.example") == "reject"
    assert lookup.policy("soft.example") == "none"
    assert lookup.policy("mail.parent.example") == "quarantine"  # sp= via the org domain
    assert lookup.policy("twice.example") is None  # two records: none applies
    assert lookup.policy("nothing.example") is None


def test_answers_are_cached(dns_server: DnsServer) -> None:
    lookup = resolver(dns_server)
    for _ in range(3):
        assert lookup.policy("strict.example") == "reject"
    assert dns_server.queries["_dmarc.strict.example"] == 1


def test_timeout_means_no_policy_and_is_not_cached(dns_server: DnsServer) -> None:
    dns_server.silent.add("_dmarc.strict.example")
    lookup = resolver(dns_server, timeout=0.3)
    assert lookup.policy("strict.example") is None
    dns_server.silent.clear()
    assert lookup.policy("strict.example") == "reject"


@pytest.fixture
def dmarc_site(make_config: Any, make_site: Any, dns_server: DnsServer) -> Site:
    config = make_config(dmarc={"nameservers": "127.0.0.1", "port": dns_server.port,
                                "timeout": "2s"})  # fmt: skip
    site: Site = make_site(config)
    site.lists.create(LIST)
    return site


@pytest.mark.parametrize("action", ["munge_from", "wrap_message"])
def test_rule_records_munge_and_wrap(dmarc_site: Site, action: str) -> None:
    mlist: IMailingList = dmarc_site.lists.update(LIST, dmarc_mitigate_action=action)
    meta: dict[str, Any] = {}
    msg = email.message_from_bytes(make_post(sender="bob@strict.example"))
    assert DmarcMitigation(dmarc_site).check(mlist, msg, meta)
    assert meta["dmarc_action"] == action and meta["moderation_action"] == "defer"


def test_rule_rejects_or_ignores(dmarc_site: Site) -> None:
    mlist = dmarc_site.lists.update(LIST, dmarc_mitigate_action="reject")
    rule = DmarcMitigation(dmarc_site)
    meta: dict[str, Any] = {}
    assert rule.check(mlist, email.message_from_bytes(make_post(sender="b@strict.example")), meta)
    assert meta["moderation_action"] == "reject"
    assert not rule.check(mlist, email.message_from_bytes(make_post(sender="b@soft.example")), {})
    mlist = dmarc_site.lists.update(LIST, dmarc_mitigate_unconditionally=True)
    assert rule.check(mlist, email.message_from_bytes(make_post(sender="b@soft.example")), {})


def test_dmarc_addresses_are_always_mitigated(dmarc_site: Site) -> None:
    mlist = dmarc_site.lists.update(
        LIST, dmarc_mitigate_action="munge_from", dmarc_addresses=["b@soft.example", "^.*@lax\\."]
    )
    rule = DmarcMitigation(dmarc_site)
    for sender in ("b@soft.example", "c@lax.example"):
        meta: dict[str, Any] = {}
        assert rule.check(mlist, email.message_from_bytes(make_post(sender=sender)), meta)
        assert meta["dmarc_action"] == "munge_from"
    assert not rule.check(mlist, email.message_from_bytes(make_post(sender="c@soft.example")), {})
