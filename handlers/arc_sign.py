"""ARC (RFC 8617): let receivers trust the list's view of a post it has rewritten.

A list changes what it passes on (subject prefix, footer, From munging), which breaks
the poster's DKIM signature.  ARC lets the list vouch for what it saw: an
ARC-Authentication-Results field with its checks, an ARC-Message-Signature over the
copy as it leaves, and an ARC-Seal over the chain, the chain extended (``i=n+1``) when
the post already carries one.

Two moments matter, so the work is split between them:

- on arrival (the ``arc-sign`` handler, first in the posting pipeline) the poster's DKIM
  signatures and the ARC chain are verified, before any handler changes the post; the
  result goes into ``msgdata["arc_results"]`` as an Authentication-Results value whose
  ``arc=`` becomes the new seal's ``cv=``.  Authentication-Results fields already
  claiming the list's ``authserv_id`` are forged and removed (RFC 8601, section 5);
- when each copy's final bytes are made (the outgoing runner, after decoration, per
  member when the list personalizes) ``ArcSigner.sign`` adds the Authentication-Results
  field and the new ARC set.

Configured by ``[arc]``; with ``enable: no`` the handler does nothing and nothing is
signed.  Public keys are looked up with the DNS resolver of ``[dmarc]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from email.message import Message
from typing import Any

import dkim
import dns.exception
import dns.rdatatype
import dns.resolver
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from posthorn.config import Config, ConfigError, Section
from posthorn.delivery.wire import to_wire
from posthorn.handlers.base import Handler
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList

__all__ = ["ArcSign", "ArcSigner", "authentication_results", "key_lookup"]

log = logging.getLogger("posthorn.arc")

KeyLookup = Callable[..., bytes | None]
_AUTHSERV = re.compile(r"\s*([^\s;]+)")


def key_lookup(config: Config) -> KeyLookup:
    """dkimpy's ``dnsfunc``: TXT records through the resolver ``[dmarc]`` configures."""
    section = config["dmarc"]
    nameservers = section.get_list("nameservers")
    resolver = dns.resolver.Resolver(configure=not nameservers)
    if nameservers:
        resolver.nameservers = list(nameservers)
    resolver.port = section.get_int("port")
    resolver.lifetime = resolver.timeout = section.get_float("timeout")

    def lookup(name: bytes, timeout: float = 5.0) -> bytes | None:
        try:
            answer = resolver.resolve(name.decode("ascii"), dns.rdatatype.TXT)
        except (dns.exception.DNSException, UnicodeDecodeError):
            return None
        for rdata in answer:
            return b"".join(rdata.strings)
        return None

    return lookup


def authentication_results(data: bytes, authserv_id: str, lookup: KeyLookup) -> str:
    """The Authentication-Results value for a post as it arrived: dkim= and arc=."""
    results = []
    checker = dkim.DKIM(data)
    signatures = [value for name, value in checker.headers if name.lower() == b"dkim-signature"]
    for index, value in enumerate(signatures):
        tags = dict(
            (key.strip().lower(), tag.strip())
            for key, _, tag in (part.partition(b"=") for part in value.split(b";"))
        )
        try:
            ok = checker.verify(idx=index, dnsfunc=lookup)
        except dkim.DKIMException:
            ok = False
        domain = re.sub(rb"[^\w.-]", b"", tags.get(b"d", b"")).decode("ascii")
        selector = re.sub(rb"[^\w.-]", b"", tags.get(b"s", b"")).decode("ascii")
        results.append(
            f"dkim={'pass' if ok else 'fail'} header.d={domain or 'unknown'}"
            f" header.s={selector or 'unknown'}"
        )
    if not signatures:
        results.append("dkim=none")
    chain, _, _ = dkim.arc_verify(data, dnsfunc=lookup)
    results.append(f"arc={chain.decode('ascii')}")
    return f"{authserv_id}; " + "; ".join(results)


def _error(section: Section, key: str, message: str) -> ConfigError:
    return ConfigError(message, file=section.source(key), section="arc", key=key)


class ArcSigner:
    """Adds Authentication-Results and the next ARC set to a copy's final bytes."""

    def __init__(
        self, *, key: bytes, selector: str, domain: str, headers: list[str], authserv_id: str
    ) -> None:
        self.key = key
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("ascii")
        self.headers = [name.lower().encode("ascii") for name in headers] or None
        self.authserv_id = authserv_id

    @classmethod
    def from_config(cls, config: Config) -> ArcSigner | None:
        """The signer ``[arc]`` describes; None when signing is off."""
        section = config["arc"]
        if not section.get_bool("enable"):
            return None
        for name in ("selector", "domain", "authserv_id"):
            if not section.get_str(name).strip() or not section.get_str(name).isascii():
                raise _error(section, name, "must be set (ASCII) when ARC signing is on")
        headers = section.get_list("headers")
        if headers and "from" not in {name.lower() for name in headers}:
            raise _error(section, "headers", "must include From (RFC 6376)")
        path = section.get_path("private_key")
        if path is None:
            raise _error(section, "private_key", "must name a PEM file when ARC signing is on")
        try:
            key = path.read_bytes()
            parse_pem_private_key(key)
        except OSError as error:
            raise _error(section, "private_key", f"cannot be read: {error}") from None
        except UnparsableKeyError as error:
            raise _error(section, "private_key", f"is not a PEM RSA key: {error}") from None
        return cls(
            key=key,
            selector=section.get_str("selector").strip(),
            domain=section.get_str("domain").strip(),
            headers=headers,
            authserv_id=section.get_str("authserv_id").strip(),
        )

    def sign(self, data: bytes, results: str) -> bytes:
        """``data`` with Authentication-Results and the new ARC set on top.

        A copy that cannot be signed goes out unsigned (and logged): a missing seal
        costs less than a post nobody receives.
        """
        # One result per line: a post with many signatures must not make a line over
        # the SMTP limit of 998 octets (results hold no "; " of their own).
        folded = results.replace("; ", ";\r\n\t")
        data = f"Authentication-Results: {folded}\r\n".encode("ascii", "replace") + data
        try:
            arc_set = dkim.arc_sign(
                data,
                self.selector,
                self.domain,
                self.key,
                self.authserv_id.encode("ascii"),
                include_headers=self.headers,
            )
        except dkim.DKIMException as error:
            log.warning("ARC signing failed, sent unsigned: %s", error)
            return data
        return b"".join(arc_set) + data


class ArcSign(Handler):
    name = "arc-sign"
    description = "Verify DKIM and ARC on arrival so each copy can be ARC-sealed."

    def __init__(self, context: HandlerContext) -> None:
        super().__init__(context)
        self.signer = ArcSigner.from_config(self.site.config)
        self.lookup = key_lookup(self.site.config)

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if self.signer is None:
            return
        ours = self.signer.authserv_id.lower()
        forged = [
            value
            for value in msg.get_all("authentication-results", [])
            if (found := _AUTHSERV.match(str(value))) and found.group(1).lower() == ours
        ]
        if forged:
            kept = [v for v in msg.get_all("authentication-results", []) if v not in forged]
            del msg["authentication-results"]
            for value in kept:
                msg["Authentication-Results"] = value
        results = authentication_results(to_wire(msg), self.signer.authserv_id, self.lookup)
        msgdata["arc_results"] = results
