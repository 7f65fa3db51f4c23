"""DMARC policy lookup: what the From domain asks receivers to do with failing mail.

A list re-sends posts from its own servers, so a post from a domain publishing
``p=reject`` or ``p=quarantine`` fails DMARC at many receivers unless the list
mitigates it (munges the From or wraps the message).  This module answers only "what
policy does this domain publish?": it asks for the ``_dmarc.<domain>`` TXT record,
falls back to the organisational domain, and caches answers.

The organisational domain is taken as the last two labels of the domain: there is no
public-suffix list here, so for a domain under a multi-label public suffix (``co.uk``)
the fallback asks the suffix, which publishes nothing, and the result is "no policy".

The resolver is configured by ``[dmarc]``: ``nameservers`` (empty: the system's
resolv.conf), ``port``, ``timeout`` and ``cache_ttl``.  A timeout or a server failure
means "no policy" for this post and is not cached, so the next post asks again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import dns.exception
import dns.rdatatype
import dns.resolver

__all__ = ["DmarcResolver", "organizational_domain", "parse_record"]

log = logging.getLogger("posthorn.dmarc")

_NO_ANSWER = (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers)


def organizational_domain(domain: str) -> str:
    """The last two labels: ``mail.example.org`` -> ``example.org`` (see the module)."""
    labels = domain.rstrip(".").split(".")
    return ".".join(labels[-2:])


def parse_record(texts: list[str], *, subdomain: bool = False) -> str | None:
    """The policy (``none``/``quarantine``/``reject``) of exactly one DMARC record.

    More than one ``v=DMARC1`` record, as RFC 7489 says, means none applies.  For a
    subdomain looked up through its organisational domain, ``sp=`` wins over ``p=``.
    """
    records = [text for text in texts if text.replace(" ", "").lower().startswith("v=dmarc1")]
    if len(records) != 1:
        return None
    tags: dict[str, str] = {}
    for part in records[0].split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags[key.strip().lower()] = value.strip().lower()
    policy = tags.get("sp") if subdomain and "sp" in tags else tags.get("p")
    return policy if policy in ("none", "quarantine", "reject") else None


@dataclass
class DmarcResolver:
    nameservers: list[str] = field(default_factory=list)
    port: int = 53
    timeout: float = 3.0
    cache_ttl: float = 3600.0
    _cache: dict[str, tuple[float, str | None]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        configure = not self.nameservers
        self._resolver = dns.resolver.Resolver(configure=configure)
        if self.nameservers:
            self._resolver.nameservers = list(self.nameservers)
        self._resolver.port = self.port
        self._resolver.lifetime = self.timeout
        self._resolver.timeout = self.timeout

    def policy(self, domain: str) -> str | None:
        """The DMARC policy governing mail from ``domain``, or None."""
        domain = domain.lower().rstrip(".")
        found = self._lookup(domain)
        if found is not None:
            return parse_record(found)
        org = organizational_domain(domain)
        if org == domain:
            return None
        found = self._lookup(org)
        return None if found is None else parse_record(found, subdomain=True)

    def _lookup(self, domain: str) -> list[str] | None:
        """The TXT strings at ``_dmarc.domain`` (cached), or None when there are none."""
        now = time.monotonic()
        cached = self._cache.get(domain)
        if cached is not None and cached[0] > now:
            return None if cached[1] is None else cached[1].split("\0")
        name = f"_dmarc.{domain}"
        try:
            answer = self._resolver.resolve(name, dns.rdatatype.TXT, raise_on_no_answer=True)
        except _NO_ANSWER:
            self._cache[domain] = (now + self.cache_ttl, None)
            return None
        except dns.exception.DNSException as error:
            log.warning("DMARC lookup of %s failed: %s", name, error)
            return None
        texts = [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]
        ttl = min(self.cache_ttl, float(answer.rrset.ttl if answer.rrset else 0))
        self._cache[domain] = (now + ttl, "\0".join(texts))
        return texts
