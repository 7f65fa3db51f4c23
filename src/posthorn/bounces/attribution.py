"""Who bounced: VERP first, then the outgoing runner's SMTP refusals, then the body.

The order is by trust.  A VERP address names the member in the envelope the MTA
delivered to, so nothing in the body (which any remote system wrote) is read.  The
outgoing runner's record of 5xx answers at RCPT is our own observation.  Only when
neither is there is the body scanned, with flufl.bounce's detectors, which know the
DSN format of RFC 3464 and the many non-standard formats still sent by real MTAs;
only permanent failures count, as a delay warning says nothing about an address.
A detector that fails on a malformed bounce (flufl.bounce re-raises, so the detectors
after it never run) leaves the bounce unattributed rather than failing it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import Message
from typing import Any

from flufl.bounce import scan_message

__all__ = ["Attribution", "attribute"]

log = logging.getLogger("posthorn.bounce")


@dataclass(frozen=True)
class Attribution:
    """The bouncing addresses (lowercased) and where we learnt them: verp, smtp or scan."""

    addresses: frozenset[str]
    source: str


def _text(address: bytes | str) -> str:
    if isinstance(address, bytes):
        address = address.decode("utf-8", "replace")
    return address.strip().strip("<>").lower()


def attribute(msg: Message, msgdata: dict[str, Any]) -> Attribution:
    """Every address this bounce is about; empty when it cannot be attributed."""
    verp = msgdata.get("verp_recipient")
    if verp:
        return Attribution(frozenset({_text(str(verp))}), "verp")
    failures = msgdata.get("smtp_failures")
    if failures:
        return Attribution(frozenset(_text(address) for address in failures), "smtp")
    try:
        found = scan_message(msg)
    except Exception:
        # The body was written by a remote system; one that trips a detector (the
        # Yale detector indexes the From header's addresses, and a bounce may have
        # none) is unrecognised, so it reaches a person instead of the shunt queue.
        log.exception("a bounce detector failed on %s", msg.get("message-id", "a bounce"))
        return Attribution(frozenset(), "scan")
    addresses = frozenset(text for text in (_text(address) for address in found) if "@" in text)
    return Attribution(addresses, "scan")
