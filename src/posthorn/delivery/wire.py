"""A message as it goes over SMTP: CRLF line ends, no line over 998 octets.

Dot-stuffing is left to the SMTP client (``smtplib`` quotes leading periods).  RFC 5321
caps a line at 998 octets plus CRLF; a body with longer lines is re-encoded as
quoted-printable, part by part, which changes no content a reader sees.
"""

from __future__ import annotations

import re
from email.encoders import encode_quopri
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO

from posthorn.delivery.folding import CACHED_COMPAT32

__all__ = ["MAX_LINE", "to_wire"]

MAX_LINE = 998
_WIRE = CACHED_COMPAT32.clone(linesep="\r\n")
_BARE_LF = re.compile(rb"(?<!\r)\n")


def _flatten(msg: Message) -> bytes:
    buffer = BytesIO()
    BytesGenerator(buffer, mangle_from_=False, policy=_WIRE).flatten(msg)
    return _BARE_LF.sub(b"\r\n", buffer.getvalue())


def _too_long(data: bytes) -> bool:
    return any(len(line) > MAX_LINE for line in data.split(b"\r\n"))


def _requote(msg: Message) -> None:
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if not any(len(line) > MAX_LINE for line in payload.splitlines()):
            continue
        cte = str(part.get("content-transfer-encoding", "7bit")).lower()
        if cte in ("base64", "quoted-printable"):
            continue
        del part["content-transfer-encoding"]
        part.set_payload(payload)
        encode_quopri(part)


def to_wire(msg: Message) -> bytes:
    """The bytes to send after DATA (before dot-stuffing)."""
    data = _flatten(msg)
    if _too_long(data):
        _requote(msg)
        data = _flatten(msg)
    return data
