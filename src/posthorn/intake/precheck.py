"""Cheap structural checks on a message's raw bytes, before anything parses it.

Python's ``email`` parser and ``pickle`` recurse once per level of MIME nesting, and a
runner's header edits are linear in the number of header fields; a hostile message can
therefore crash or stall every runner that touches it.  The LMTP runner refuses such a
message at DATA, while the sending MTA still holds it, so it never reaches a queue.

The scan follows the parser's own rules closely enough that it cannot be fooled into
under-counting: every header block (the message's and each part's) is measured; the
Content-Type of each block is read with ``email.message.Message`` itself, so quoting and
RFC 2231 continuations of ``boundary=`` mean here what they mean to the parser; a part
ends at a delimiter line of any enclosing multipart, as in ``email.feedparser``; and
every ``message/*`` body but ``message/delivery-status`` is a nested message, one level
deeper.  Regular expressions find the delimiter lines, so a large message costs one
pass in C plus a little Python per header line and per part.

``normalize_line_endings`` turns every bare CR and bare LF into CRLF, the way the email
parser reads them anyway, so what is stored is what every later reader sees as lines.

The limits (``[mta] max_header_count``, ``max_header_size``, ``max_mime_depth``,
``max_mime_parts``) are chosen well inside what the parser survives: nesting 50 deep
leaves pickle, the deepest recurser, room for four times that.  Each header field is
also checked on its own (``fields``: comment depth, encoded words, MIME parameters,
addresses, words too long to fold), and ``max_headers_size`` caps all header blocks
of the message together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import compat32

from posthorn.config import Section
from posthorn.errors import PosthornError
from posthorn.intake.fields import field_problem

__all__ = [
    "Limits",
    "StructureError",
    "check_structure",
    "normalize_line_endings",
]

CRLF = b"\r\n"
_BARE_EOL = re.compile(rb"\r\n|\r|\n")
# A header field's first line, as email.feedparser recognises one; the "From " line an
# mbox may carry first is accepted too, as the parser does.
_FIELD = re.compile(rb"[\041-\071\073-\176]*:|From ")
_DELIVERY_STATUS = "message/delivery-status"
_HEADER_PARSER = BytesParser(policy=compat32)
# Content-Type fields read, and the longest kept; cleared whole when full.
_CONTENT_TYPES = 512
_CONTENT_TYPE_LENGTH = 512
_content_types: dict[tuple[bytes, str], tuple[str, str | None]] = {}


class StructureError(PosthornError):
    """A message refused for its structure; ``reply`` is the full LMTP reply line."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Limits:
    """The caps the scan enforces; see the ``[mta]`` section of the configuration."""

    max_header_count: int = 1000
    max_header_size: int = 100 * 1024
    max_mime_depth: int = 50
    max_mime_parts: int = 1000
    max_headers_size: int = 1024 * 1024
    max_comment_depth: int = 20
    max_encoded_words: int = 200
    max_mime_params: int = 100
    max_addresses: int = 200
    max_address_size: int = 1000
    max_header_word: int = 900

    @classmethod
    def from_section(cls, mta: Section) -> Limits:
        names = (
            "max_header_count", "max_header_size", "max_mime_depth", "max_mime_parts",
            "max_headers_size", "max_comment_depth", "max_encoded_words", "max_mime_params",
            "max_addresses", "max_address_size", "max_header_word",
        )  # fmt: skip
        return cls(**{name: mta.get_int(name) for name in names})


def normalize_line_endings(data: bytes | bytearray) -> bytes | bytearray:
    """Every line ending as CRLF: no bare CR or LF can end a line for one reader only."""
    pairs = data.count(CRLF)
    if data.count(b"\r") == pairs and data.count(b"\n") == pairs:
        return data
    return _BARE_EOL.sub(CRLF, data)


def check_structure(data: bytes | bytearray, limits: Limits) -> set[bytes]:
    """Raise StructureError naming the first limit that ``data`` (CRLF lines) exceeds.

    Returns the lower-cased field names of the message's own (top-level) header block,
    as the parser will see it, which the scan reads anyway.
    """
    scan = _Scan(data, limits)
    scan.entity(0, 0, "text/plain")
    return scan.names


class _Scan:
    """One pass over one message; the recursion is bounded by ``max_mime_depth``."""

    def __init__(self, data: bytes | bytearray, limits: Limits) -> None:
        self.data = data
        self.limits = limits
        self.parts = 0
        # Bytes of every header block so far, against max_headers_size.
        self.header_bytes = 0
        # Delimiters ("--" + boundary) of the multiparts enclosing the current position.
        self.open: list[bytes] = []
        self._delimiter: re.Pattern[bytes] | None = None
        # The field names of the first header block read, the message's own.
        self.names: set[bytes] = set()
        self._first = True

    def entity(self, start: int, depth: int, default_type: str) -> int:
        """Scan the entity at ``start``; return where it ends (a delimiter or the end)."""
        content_type, boundary, body = self.header_block(start, len(self.data), default_type)
        if content_type == _DELIVERY_STATUS:
            self.check_depth(depth + 1)
            return self.delivery_status(body)
        if content_type.startswith("message/"):
            # The enclosed message is one more object, one level down, for the parser.
            self.check_depth(depth + 1)
            self.count_part()
            return self.entity(body, depth + 1, "text/plain")
        if content_type.startswith("multipart/") and boundary is not None:
            self.check_depth(depth + 1)
            # As in email.feedparser, the parts of a digest are messages by default.
            inner = "message/rfc822" if content_type == "multipart/digest" else "text/plain"
            return self.multipart(boundary, body, depth + 1, inner)
        return self.next_delimiter(body)[0]

    def multipart(self, boundary: str, position: int, depth: int, default_type: str) -> int:
        own = b"--" + boundary.encode("utf-8", "surrogateescape")
        self.push(own)
        while True:
            found, delimiter, closing = self.next_delimiter(position)
            if delimiter != own:
                # An enclosing multipart's delimiter (or the end) also ends this one.
                self.pop()
                return found
            position = self.line_end(found)
            if closing:
                # The epilogue runs to the next delimiter of an enclosing multipart.
                self.pop()
                return self.next_delimiter(position)[0]
            self.count_part()
            position = self.entity(position, depth, default_type)

    def delivery_status(self, start: int) -> int:
        """Each blank-line separated block of a delivery status is parsed as a message.

        Such a block ends at a blank line rather than at a delimiter, which this scan
        does not follow into nested structure; real delivery reports never nest, so a
        block that declares a multipart or message type is refused instead.
        """
        end = self.next_delimiter(start)[0]
        position = start
        while position < end:
            if self.data.startswith(CRLF, position):
                position += len(CRLF)
                continue
            self.count_part()
            blank = self.data.find(CRLF + CRLF, position, end)
            block_end = end if blank < 0 else blank + len(CRLF)
            content_type, _, _ = self.header_block(position, block_end, "text/plain")
            if content_type.startswith(("multipart/", "message/")):
                raise StructureError(f"554 5.6.0 Nested {content_type} in a delivery report")
            position = block_end
        return end

    def header_block(self, start: int, stop: int, default_type: str) -> tuple[str, str | None, int]:
        """Measure the header fields at ``start``: (content type, boundary, body offset)."""
        fields = _HeaderCounter(self.limits, self.names if self._first else None)
        self._first = False
        position = start
        while position < stop:
            line_end = self.data.find(CRLF, position, stop)
            next_line = stop if line_end < 0 else line_end + len(CRLF)
            line = bytes(self.data[position:next_line])
            if not fields.add(line):
                # A blank line is the separator and belongs to neither; any other line
                # that is no header field is already the body, as the parser reads it.
                if line == CRLF:
                    position = next_line
                break
            position = next_line
        fields.finish()
        self.header_bytes += position - start
        if self.header_bytes > self.limits.max_headers_size:
            limit = self.limits.max_headers_size
            raise StructureError(f"554 5.6.0 Headers too large (limit {limit} bytes in all)")
        return (*_content_type(fields.content_type, default_type), position)

    def next_delimiter(self, start: int) -> tuple[int, bytes | None, bool]:
        """The next delimiter line of any open multipart: (offset, delimiter, closing)."""
        match = self._delimiter.search(self.data, start) if self._delimiter else None
        if match is None:
            return len(self.data), None, False
        return match.start(), match.group(1), match.group(2) is not None

    def line_end(self, start: int) -> int:
        end = self.data.find(CRLF, start)
        return len(self.data) if end < 0 else end + len(CRLF)

    def push(self, delimiter: bytes) -> None:
        self.open.append(delimiter)
        self._compile()

    def pop(self) -> None:
        self.open.pop()
        self._compile()

    def _compile(self) -> None:
        if not self.open:
            self._delimiter = None
            return
        # Innermost first: when one boundary is a prefix of another, the parser tries
        # the innermost multipart's delimiter first, and so do we.
        choices = b"|".join(re.escape(d) for d in reversed(self.open))
        self._delimiter = re.compile(rb"^(" + choices + rb")(--)?[ \t]*\r?$", re.MULTILINE)

    def count_part(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_mime_parts:
            limit = self.limits.max_mime_parts
            raise StructureError(f"554 5.6.0 Too many MIME parts (limit {limit})")

    def check_depth(self, depth: int) -> None:
        if depth > self.limits.max_mime_depth:
            limit = self.limits.max_mime_depth
            raise StructureError(f"554 5.6.0 MIME nesting too deep (limit {limit})")


class _HeaderCounter:
    """Counts the fields of one header block and keeps its first Content-Type field."""

    def __init__(self, limits: Limits, names: set[bytes] | None = None) -> None:
        self.limits = limits
        # Where to add each field's name, lower-cased (None: not wanted).
        self.names = names
        self.count = 0
        self.size = 0
        self.content_type: bytes | None = None
        self._in_content_type = False
        # The lines of the field being read, checked as one when it is complete.
        self._field: list[bytes] = []

    def add(self, line: bytes) -> bool:
        """Take one line; False if it is not part of the header block (the body starts)."""
        if line[:1] in (b" ", b"\t") and self.count:
            self.size += len(line)
            self._field.append(line)
            if self._in_content_type:
                self.content_type = (self.content_type or b"") + line
        elif _FIELD.match(line):
            self.finish()
            self._field.append(line)
            self.count += 1
            self.size = len(line)
            if self.names is not None:
                self.names.add(line.split(b":", 1)[0].strip().lower())
            if self.count > self.limits.max_header_count:
                limit = self.limits.max_header_count
                raise StructureError(f"554 5.6.0 Too many header fields (limit {limit})")
            self._in_content_type = (
                self.content_type is None and line[:13].lower() == b"content-type:"
            )
            if self._in_content_type:
                self.content_type = line
        else:
            return False
        if self.size > self.limits.max_header_size:
            limit = self.limits.max_header_size
            raise StructureError(f"554 5.6.0 Header field too long (limit {limit} bytes)")
        return True

    def finish(self) -> None:
        """Check the field read so far (called when the next one or the body starts)."""
        if not self._field:
            return
        field = b"".join(self._field)
        self._field.clear()
        problem = field_problem(field, self.limits)
        if problem is not None:
            raise StructureError(problem)


def _content_type(field: bytes | None, default_type: str) -> tuple[str, str | None]:
    """Read a Content-Type field with the email package itself, as the parser will.

    The answers are kept per field text: most messages carry one of a few.
    """
    if field is None:
        return default_type, None
    key = (field, default_type)
    found = _content_types.get(key)
    if found is None:
        probe = _HEADER_PARSER.parsebytes(field, headersonly=True)
        probe.set_default_type(default_type)
        found = probe.get_content_type(), probe.get_boundary()
        if len(field) <= _CONTENT_TYPE_LENGTH:
            if len(_content_types) >= _CONTENT_TYPES:
                _content_types.clear()
            _content_types[key] = found
    return found
