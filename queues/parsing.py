"""Parsing a message fed a slice at a time, without one object per line of its body.

``email.feedparser`` keeps every line it has read as a string of its own until the end
of the part, then joins them: with some 50 bytes of overhead per string, a base64
attachment of 78-byte lines costs about 1.7 times its size in line objects on top of
the joined payload.  ``message_parser`` gives a ``BytesFeedParser`` whose input hands
the parser runs of ordinary lines as one string instead.

A line is ordinary when no state of the parser reads it on its own: it is not blank
(header/body separator, delivery-status blocks), it does not start with "-" (a MIME
boundary starts with "--"), and it is not a header line or a continuation
(``feedparser.headerRE``).  Where the parser tests a line -- the end of a header block,
a boundary, the end of a delivery-status block -- it tests the first line of a run the
way it tested that line alone, and every other line of the run could not have matched;
where it collects lines (a body, a preamble, an epilogue) it joins them.  So the
parsed message is the same.

Most posts are a single part, and there the parser reads no line of the body at all:
once the top-level headers are parsed and the message is neither ``multipart/*`` nor
``message/*``, the rest of the input becomes the payload as it is.  So once the input
is past the first blank line (the headers surely ended there, as a blank line is no
header), the rest goes to the parser whole, unsplit: parsing a post then costs about
its headers.

This leans on ``BufferedSubFile`` and ``FeedParser`` internals of the standard library;
``tests/queues/test_queue_parsing.py`` holds it to the plain parser on real messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.feedparser import (  # type: ignore[attr-defined]
    BufferedSubFile,
    BytesFeedParser,
    headerRE,
)
from email.message import Message
from email.policy import Policy
from typing import Any

__all__ = ["message_parser"]

# Characters of ordinary lines joined into one string (a little more: a run is cut after
# the line that reaches it).  Above glibc's mmap threshold, so that a freed run goes back
# to the system at once instead of staying in the heap.
RUN = 256 * 1024
# The end of a blank line: a line end ("\n" or "\r\n") right after another "\n".
_BLANK_LINE = re.compile(rb"\n\r?\n")
# A line up to its "\n"; the start of a header field's first line (feedparser.headerRE
# without its Unix From and continuation alternatives).
_LINE = re.compile(r"[^\n]*\n")
_FIELD_NAME = re.compile(r"[\041-\071\073-\176]+:")


def _ordinary(line: str) -> bool:
    return (
        line[:1] not in ("", "\r", "\n", "-")
        and line.endswith("\n")
        and headerRE.match(line) is None
    )


class _RunsOfLines(BufferedSubFile):  # type: ignore[misc]
    """The parser's input, holding runs of ordinary lines as one string each."""

    #: False while the lines pushed are headers, none of which is ordinary.
    runs = True

    def pushlines(self, lines: Iterable[str]) -> None:
        if not self.runs:
            super().pushlines(lines)
            return
        run: list[str] = []
        size = 0
        out: list[str] = []
        for line in lines:
            if _ordinary(line):
                run.append(line)
                size += len(line)
                if size < RUN:
                    continue
            if run:
                out.append("".join(run))
                run, size = [], 0
            if not _ordinary(line):
                out.append(line)
        if run:
            out.append("".join(run))
        super().pushlines(out)

    def push_whole(self, text: str) -> None:
        """Queue ``text`` as one line; only for input that nothing reads line by line."""
        # An empty line would read as the end of the input.
        if text:
            self._lines.append(text)


class _QueueParser(BytesFeedParser):
    """A ``BytesFeedParser`` that hands a single part's body over whole (see above)."""

    def __init__(self, policy: Policy[Any] | None) -> None:
        if policy is None:
            super().__init__()
        else:
            super().__init__(policy=policy)
        self._input = _RunsOfLines()
        # None until the headers are known to have ended, then whether the rest of the
        # input goes to the parser whole.
        self._whole: bool | None = None
        # Whether any input went to the parser; the message whose headers were read
        # here instead, and the pieces of its body.
        self._fed = False
        self._plain: Message | None = None
        self._body: list[str] = []

    def feed(self, data: bytes | bytearray) -> None:  # type: ignore[override]
        if self._plain is not None:
            self._body.append(data.decode("ascii", "surrogateescape"))
            return
        if self._whole:
            self._input.push_whole(data.decode("ascii", "surrogateescape"))
            return
        if self._whole is not None:
            super().feed(data)
            return
        blank = _BLANK_LINE.search(data)
        if blank is None:
            self._fed = True
            super().feed(data)
            return
        if not self._fed:
            head = data[: blank.start() + 1].decode("ascii", "surrogateescape")
            self._plain = _plain_single_part(head, self._new_plain())
            if self._plain is not None:
                self.feed(data[blank.end() :])
                return
        self._fed = True
        # Up to the end of a blank line, the parser reads as usual: by then it has
        # parsed the top-level headers and chosen how to read the rest.  The lines
        # of a header block are never ordinary, so no run is looked for in them.
        self._input.runs = blank.start() >= RUN
        super().feed(data[: blank.end()])
        self._input.runs = True
        self._whole = self._single_part()
        self.feed(data[blank.end() :])

    def close(self) -> Message:
        if self._plain is None:
            return super().close()
        # What the parser does with the rest of a single part: it is the payload.
        self._plain.set_payload("".join(self._body))
        return self._plain

    def _new_plain(self) -> Message:
        """A new message, made as the parser makes one."""
        return self._factory(policy=self.policy)  # type: ignore[attr-defined,no-any-return]

    def _single_part(self) -> bool:
        """Whether the parser now reads the rest as the top-level message's payload."""
        stack: list[Message] = self._msgstack  # type: ignore[attr-defined]
        return len(stack) == 1 and stack[0].get_content_maintype() not in ("multipart", "message")


def _plain_single_part(head: str, msg: Message) -> Message | None:
    """``msg`` with the header fields of ``head`` (whole lines, up to the blank one),
    as the parser would set them; None unless the parser would read them without a
    defect or a Unix From line, and the message is a single part.

    The parser's own reading of a header block costs several times this: a generator
    step per line, and the content type looked up five times over.
    """
    policy: Any = msg.policy
    field: list[str] = []
    # Lines end at "\n" here; one with a "\r" other than just before that is cut in
    # two by the parser (a "\r" ends a line too), so it is left to the parser.
    for line in _LINE.findall(head):
        text = line[:-2] if line.endswith("\r\n") else line[:-1]
        if "\r" in text:
            return None
        if line[:1] in (" ", "\t"):
            # A continuation, of a field: the first line is a defect for the parser.
            if not field:
                return None
            field.append(line)
            continue
        if _FIELD_NAME.match(line) is None:
            # A "From " line, a line without a field name: the parser's to judge.
            return None
        if field:
            msg.set_raw(*policy.header_source_parse(field))
        field = [line]
    if field:
        msg.set_raw(*policy.header_source_parse(field))
    if msg.get_content_maintype() in ("multipart", "message"):
        return None
    return msg


def message_parser(policy: Policy[Any] | None = None) -> BytesFeedParser:
    """A ``BytesFeedParser`` (compat32 unless ``policy``) that reads runs of lines,
    and the body of a single-part message whole."""
    return _QueueParser(policy)
