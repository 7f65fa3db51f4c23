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

    def feed(self, data: bytes | bytearray) -> None:  # type: ignore[override]
        if self._whole:
            self._input.push_whole(data.decode("ascii", "surrogateescape"))
            return
        if self._whole is not None:
            super().feed(data)
            return
        blank = _BLANK_LINE.search(data)
        if blank is None:
            super().feed(data)
            return
        # Up to the end of a blank line, the parser reads as usual: by then it has
        # parsed the top-level headers and chosen how to read the rest.  The lines
        # of a header block are never ordinary, so no run is looked for in them.
        self._input.runs = blank.start() >= RUN
        super().feed(data[: blank.end()])
        self._input.runs = True
        self._whole = self._single_part()
        self.feed(data[blank.end() :])

    def _single_part(self) -> bool:
        """Whether the parser now reads the rest as the top-level message's payload."""
        stack: list[Message] = self._msgstack  # type: ignore[attr-defined]
        return len(stack) == 1 and stack[0].get_content_maintype() not in ("multipart", "message")


def message_parser(policy: Policy[Any] | None = None) -> BytesFeedParser:
    """A ``BytesFeedParser`` (compat32 unless ``policy``) that reads runs of lines,
    and the body of a single-part message whole."""
    return _QueueParser(policy)
