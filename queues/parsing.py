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
parsed message is the same.  This leans on ``BufferedSubFile``, an undocumented class
of the standard library; ``tests/queues/test_queue_parsing.py`` holds it to the plain
parser on real messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.feedparser import (  # type: ignore[attr-defined]
    BufferedSubFile,
    BytesFeedParser,
    headerRE,
)
from email.policy import Policy
from typing import Any

__all__ = ["message_parser"]

# Characters of ordinary lines joined into one string (a little more: a run is cut after
# the line that reaches it).  Above glibc's mmap threshold, so that a freed run goes back
# to the system at once instead of staying in the heap.
RUN = 256 * 1024


def _ordinary(line: str) -> bool:
    return (
        line[:1] not in ("", "\r", "\n", "-")
        and line.endswith("\n")
        and headerRE.match(line) is None
    )


class _RunsOfLines(BufferedSubFile):  # type: ignore[misc]
    """The parser's input, holding runs of ordinary lines as one string each."""

    def pushlines(self, lines: Iterable[str]) -> None:
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


def message_parser(policy: Policy[Any] | None = None) -> BytesFeedParser:
    """A ``BytesFeedParser`` (compat32 unless ``policy``) that reads runs of lines."""
    parser = BytesFeedParser(policy=policy) if policy is not None else BytesFeedParser()
    parser._input = _RunsOfLines()  # type: ignore[attr-defined]
    return parser
