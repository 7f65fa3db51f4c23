"""``read_data`` reads what aiosmtpd's line-at-a-time DATA would, in bulk.

The reference below is the line loop it replaced (lines split at CRLF, a leading "."
dropped, a lone "." line the end).  Each input is fed in pieces of several sizes, so
the end marker and stuffed dots fall across reads, and what follows the end must stay
in the stream for the next command.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from posthorn.intake.data import TooBig, read_data

NEXT = b"MAIL FROM:<next@example.com>\r\n"


def reference(stream: bytes) -> tuple[bytes, bytes]:
    """The message as the line loop read it, and what it left unread."""
    content = bytearray()
    at_line_start = True
    position = 0
    while True:
        end = stream.index(b"\r\n", position) + 2
        line = stream[position:end]
        position = end
        if at_line_start and line == b".\r\n":
            break
        if at_line_start and line.startswith(b"."):
            line = line[1:]
        at_line_start = line.endswith(b"\r\n")
        content += line
    return bytes(content), stream[position:]


async def _read(stream: bytes, piece: int, limit: int, stream_limit: int) -> tuple[bytes, bytes]:
    reader = asyncio.StreamReader(limit=stream_limit)

    async def feed() -> None:
        for start in range(0, len(stream), piece):
            reader.feed_data(stream[start : start + piece])
            await asyncio.sleep(0)
        reader.feed_eof()

    feeding = asyncio.create_task(feed())
    try:
        try:
            content = bytes(await read_data(reader, limit))
        except TooBig:
            content = b"<too big>"
        rest = await reader.read()
    finally:
        await feeding
    return content, rest


def read(
    stream: bytes, piece: int, limit: int = 0, stream_limit: int = 2**16
) -> tuple[bytes, bytes]:
    return asyncio.run(_read(stream, piece, limit, stream_limit))


SHAPES = [
    b".\r\n",
    b"\r\n.\r\n",
    b"a\r\n.\r\n",
    b"..\r\n.\r\n",
    b".a\r\n..b\r\nc\r\n.\r\n",
    b"\r\n\r\n.x\r\n\r\nbody\r\n.\r\n",
    b"\r\r\n.\r\n",
    b"\rx\r\n.\r\n",
    b"a\n.\r\nb\r\n.\r\n",
    b".\n.\r\n.\r\n",
    b"\n.\r\n.\r\n",
    b"x\r\n.\n.\r\n.\r\n",
    b"head\r\n\r\n.dot\r\n..two\r\nlast.\r\n.\r\n",
    b"no final line end.\r\n.\r\n",
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("piece", [1, 2, 3, 5, 4096])
def test_shapes_read_as_the_line_loop_did(shape: bytes, piece: int) -> None:
    assert read(shape + NEXT, piece) == reference(shape + NEXT)


def test_random_messages_read_as_the_line_loop_did() -> None:
    rng = random.Random(19)
    parts = [b"\r\n", b".", b"..", b"\r", b"\n", b"x", b"line of text", b"\r\n.", b" "]
    for _ in range(400):
        body = b"".join(rng.choice(parts) for _ in range(rng.randrange(0, 30)))
        # Whatever the body, a CRLF and a lone "." end it (or something in it did).
        stream = body + b"\r\n.\r\n" + NEXT
        for piece in (1, 7, 64):
            assert read(stream, piece) == reference(stream), stream


@pytest.mark.parametrize("piece", [1, 3, 4096])
def test_over_the_limit_is_read_to_its_end_and_dropped(piece: int) -> None:
    lines = b"".join(b"line %03d\r\n" % n for n in range(200))
    assert read(lines + b".\r\n" + NEXT, piece, limit=1000) == (b"<too big>", NEXT)
    # A message exactly at the limit is kept.
    assert read(lines + b".\r\n", piece, limit=len(lines))[0] == lines


@pytest.mark.parametrize("piece", [1, 3, 4096])
@pytest.mark.parametrize("start", [b"", b".", b"\r\n", b"x"])
def test_a_line_over_the_stream_limit_is_dropped_to_the_end(piece: int, start: bytes) -> None:
    stream = start + b"y" * 5000 + b"\r\n.\r\n"
    assert read(stream + NEXT, piece, limit=1000, stream_limit=1003) == (b"<too big>", NEXT)


def test_a_client_gone_during_data_is_a_reset() -> None:
    with pytest.raises(ConnectionResetError):
        read(b"half a message\r\n", 4)
    with pytest.raises(ConnectionResetError):
        read(b"", 4)
