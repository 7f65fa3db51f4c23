"""Reading the DATA of an LMTP transaction into one buffer.

aiosmtpd keeps every line of a message as a bytearray of its own in a list, then joins
them: for a large message, about three times its size at once.  ``read_data`` appends
each line, dot-unstuffed, to a single ``bytearray`` instead, which grows in place, so a
message costs about its own size.  A message over the size limit is read to its end
and dropped as it goes (the client must be allowed to finish before it gets a reply),
and so is one with a line longer than the stream's limit, which is the size limit too.
"""

from __future__ import annotations

import asyncio

__all__ = ["TooBig", "read_data"]

CRLF = b"\r\n"
END = b".\r\n"


class TooBig(Exception):
    """The message was over the size limit; it has been read and dropped."""


async def read_data(reader: asyncio.StreamReader, limit: int) -> bytearray:
    """The message up to the lone "." line, dot-unstuffed; TooBig past ``limit`` (0: none)."""
    content = bytearray()
    size = 0
    too_big = False
    at_line_start = True
    while True:
        try:
            line = await reader.readuntil(CRLF)
        except asyncio.LimitOverrunError as error:
            # A line longer than the stream's limit: the message is too big anyway.
            line = await reader.read(error.consumed)
            too_big = True
        except asyncio.IncompleteReadError:
            # The client went away in the middle of its DATA.
            raise ConnectionResetError("connection lost during DATA") from None
        if at_line_start and line == END:
            break
        if at_line_start and line.startswith(b"."):
            line = line[1:]
        at_line_start = line.endswith(CRLF)
        size += len(line)
        if limit and size > limit:
            too_big = True
        if too_big:
            if content:
                content = bytearray()
            continue
        content += line
    if too_big:
        raise TooBig
    return content
