"""Reading the DATA of an LMTP transaction into one buffer, in as few reads as possible.

aiosmtpd reads DATA a line at a time, a trip through the stream reader for each line,
and keeps every line as a bytearray of its own before joining them: for a large
message, about three times its size at once, and most of the LMTP runner's CPU for a
message of a few kilobytes.  ``read_data`` instead reads up to the end marker
(CRLF "." CRLF) in one ``readuntil`` and dot-unstuffs the result with one
``replace``: the message costs about twice its size for a moment, once.

The marker's CRLF ends the line before the "." line, so one ``readuntil`` finds the end
only when that CRLF has not been read yet.  At the start of DATA the stream is at the
start of a line, and the message may be empty (".") or begin with empty lines; so while
a line starts with "." or CR, it is read on its own, as aiosmtpd would.  The first line
that starts with anything else puts the reader in the middle of a line, and the rest
comes in one piece.  Lines end at CRLF only, as in aiosmtpd: a bare LF "." line ends
nothing.

A message over the size limit is read to its end and dropped as it goes (the client
must be allowed to finish before it gets a reply); so is one with a line longer than
the stream's limit, which is the size limit too.
"""

from __future__ import annotations

import asyncio

__all__ = ["TooBig", "read_data"]

CRLF = b"\r\n"
END = b".\r\n"
MARKER = b"\r\n.\r\n"
STUFFED = b"\r\n."


class TooBig(Exception):
    """The message was over the size limit; it has been read and dropped."""


async def read_data(reader: asyncio.StreamReader, limit: int) -> bytearray:
    """The message up to the lone "." line, dot-unstuffed; TooBig past ``limit`` (0: none)."""
    content = bytearray()
    # The last few raw bytes read, so that a drain after an overlong read finds the end.
    tail = CRLF
    try:
        while True:
            first = await reader.readexactly(1)
            tail = tail[-3:] + first
            if first != b"." and first != b"\r":
                content += first
                break
            line = first + await reader.readuntil(b"\n")
            if line == END:
                return _checked(content, limit)
            tail = line[-4:]
            content += line[1:] if first == b"." else line
            if limit and len(content) > limit:
                await _drain(reader, tail)
                raise TooBig
            if not line.endswith(CRLF):
                break
        chunk = await reader.readuntil(MARKER)
    except asyncio.LimitOverrunError as error:
        # No end within the stream's limit: the message is too big anyway.
        dropped = await reader.read(error.consumed)
        await _drain(reader, tail[-4:] + dropped[-4:])
        raise TooBig from None
    except asyncio.IncompleteReadError:
        raise ConnectionResetError("connection lost during DATA") from None
    # Everything up to the marker's CRLF, which ends the last line.  The chunk starts in
    # the middle of a line, so its stuffed dots are those after a CRLF of its own.
    end = len(chunk) - len(END)
    if chunk.find(STUFFED, 0, end) < 0:
        content += memoryview(chunk)[:end]
    else:
        content += chunk[:end].replace(STUFFED, CRLF)
    return _checked(content, limit)


def _checked(content: bytearray, limit: int) -> bytearray:
    if limit and len(content) > limit:
        raise TooBig
    return content


async def _drain(reader: asyncio.StreamReader, tail: bytes) -> None:
    """Read and drop the rest of DATA; ``tail`` is the last bytes read before.

    Every read ends at an LF (or at the stream's limit), and the end marker ends with
    one, so looking at the last five bytes after each read is enough.
    """
    window = tail[-4:]
    try:
        while True:
            try:
                piece = await reader.readuntil(b"\n")
            except asyncio.LimitOverrunError as error:
                piece = await reader.read(error.consumed)
            window = (window + piece[-5:])[-5:]
            if window == MARKER:
                return
    except asyncio.IncompleteReadError:
        raise ConnectionResetError("connection lost during DATA") from None
