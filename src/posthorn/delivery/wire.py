"""A message as it goes out (SMTP, LMTP): CRLF line ends, no line over 998 octets.

Dot-stuffing is left to the SMTP client (``smtplib`` quotes leading periods).  RFC 5321
caps a line at 998 octets plus CRLF, and an MTA refuses the whole message otherwise
("500 line too long"), so every path that hands bytes to an MTA (outgoing delivery,
notices and digests through it, the archivers that mail a copy) calls ``to_wire``.
When the plain serialisation has a longer line, the message is mended in place (no
copy: a large post must not be held twice) and serialised again; every mend keeps
what a reader sees:

- a header whose words are too long to fold (an encoded Subject decoded, prefixed and
  made one long word) is written again as RFC 2047 encoded words, which fold at any
  length -- unless it is structured (addresses, message-ids, MIME parameters), whose
  words intake already keeps short (``[mta] max_header_word``);
- a body part with longer lines is re-encoded as quoted-printable (text) or base64,
  part by part, which changes no content a reader sees;
- a preamble, an epilogue or a multipart that never parsed into parts has its long
  lines broken, since no reader shows them.

What still cannot be sent raises ``LineTooLong`` naming the header, rather than
reaching the MTA.
"""

from __future__ import annotations

import re
from email.encoders import encode_base64, encode_quopri
from email.header import Header
from email.message import Message
from typing import Any

from posthorn.errors import PosthornError
from posthorn.messages.folding import CACHED_COMPAT32
from posthorn.messages.oneline import decoded_header
from posthorn.queues.flatten import message_to_bytes

__all__ = ["MAX_LINE", "LineTooLong", "requote", "to_wire"]

MAX_LINE = 998
_WIRE = CACHED_COMPAT32.clone(linesep="\r\n")
_BARE_LF = re.compile(rb"(?<!\r)\n")
# Bytes of a message checked for long lines at a time (see ``_too_long``).
_SLICE = 1024 * 1024
# Fields whose syntax encoded words would break; only these keep their words as written.
_STRUCTURED = re.compile(
    r"(resent-)?(from|sender|reply-to|to|cc|bcc|message-id|in-reply-to|references|date)$"
    r"|return-path$|received$|content-(?!description$)|mime-version$|list-|dkim-|arc-",
    re.IGNORECASE,
)


class LineTooLong(PosthornError):
    """A message that would put a line over 998 octets on the wire even when mended."""


def _flatten(msg: Message) -> bytes:
    # The streaming generator: the standard one holds a large message some five times.
    data = message_to_bytes(msg, _WIRE)
    if data.count(b"\n") == data.count(b"\r\n"):
        return data  # no bare LF; counting is much cheaper than the substitution
    return _BARE_LF.sub(b"\r\n", data)


def _too_long(text: str | bytes) -> bool:
    """Whether a line (ended by CR or LF) is over MAX_LINE octets.

    Checked in slices cut after a line end, each split into lines: a regular expression
    tried at every offset took seconds on a large message, and splitting the whole of it
    at once would be a second copy.
    """
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    start, end = 0, len(data)
    while start < end:
        stop = data.find(b"\n", start + _SLICE)
        stop = end if stop < 0 else stop + 1
        lines = data[start:stop].replace(b"\r", b"\n").split(b"\n")
        if max(map(len, lines)) > MAX_LINE:
            return True
        start = stop
    return False


def _break_lines(text: str) -> str:
    """Long lines of text no reader sees, broken at MAX_LINE characters."""
    lines = []
    for line in text.split("\n"):
        while len(line.encode("utf-8", "surrogateescape")) > MAX_LINE:
            cut = MAX_LINE // 4 if not line[: MAX_LINE // 4].isascii() else MAX_LINE - 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return "\n".join(lines)


def requote(part: Message) -> None:
    """Re-encode a leaf part whose encoded body has lines over MAX_LINE octets."""
    raw = part.get_payload()
    if not isinstance(raw, str) or not _too_long(raw):
        return
    if part.get_content_maintype() in ("multipart", "message"):
        part.set_payload(_break_lines(raw))
        return
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return
    del part["content-transfer-encoding"]
    part.set_payload(payload)
    if part.get_content_maintype() == "text":
        encode_quopri(part)
    else:
        encode_base64(part)


def _refold(part: Message) -> None:
    """Write again, as encoded words, each unstructured header that folds too long."""
    headers: list[tuple[str, Any]] = vars(part)["_headers"]
    for index, (name, value) in enumerate(headers):
        if not _too_long(_WIRE.fold(name, value)) or _STRUCTURED.match(name):
            continue
        text = decoded_header(value).encode("utf-8", "surrogateescape")
        headers[index] = (name, Header(text.decode("utf-8", "replace"), "utf-8", header_name=name))


def _mend(msg: Message) -> None:
    for part in msg.walk():
        _refold(part)
        if part.is_multipart():
            for name in ("preamble", "epilogue"):
                text = getattr(part, name)
                if text and _too_long(text):
                    setattr(part, name, _break_lines(text))
        else:
            requote(part)


def _culprit(data: bytes) -> str:
    """Which header (of the message's own) has the long line, else "a body line"."""
    name = b""
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line[:1] not in (b" ", b"\t"):
            name = line.split(b":", 1)[0]
        if len(line) > MAX_LINE:
            return name.decode("ascii", "replace") + " header"
    return "a body line"


def to_wire(msg: Message) -> bytes:
    """The bytes to send after DATA (before dot-stuffing); LineTooLong if none can be."""
    data = _flatten(msg)
    if not _too_long(data):
        return data
    _mend(msg)
    data = _flatten(msg)
    if _too_long(data):
        raise LineTooLong(f"cannot send: {_culprit(data)} over {MAX_LINE} octets")
    return data
