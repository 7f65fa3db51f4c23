"""The bench's SMTP sink in its own process: counts copies per post, never parses.

It stands in for the MTA, so it advertises PIPELINING as Postfix does.  Each post
carries ``X-Bench: N``; the sink keeps, per N, the number of recipients accepted and
the arrival time (``time.monotonic``, the same clock in every process on Linux) of
the last copy.  ``blast`` is a separate pipelining client, to measure the sink alone.

Two kinds: ``fast`` (the default), a bare asyncio protocol that answers a pipelined
group in one write, and ``aiosmtpd``, the full server, which takes some 7,700
deliveries/s on one core: slower than the site, so it hid every gain on big lists.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import socket
import time
from multiprocessing.connection import Connection

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

_SEQ = re.compile(rb"\r?\nX-Bench: (\d+)")


class _Counter:
    def __init__(self) -> None:
        self.copies: dict[int, int] = {}
        self.last: dict[int, float] = {}
        self.total = 0

    def record(self, content: bytes, rcpts: int) -> None:
        found = _SEQ.search(content[:4096])
        seq = int(found.group(1)) if found else -1
        self.copies[seq] = self.copies.get(seq, 0) + rcpts
        self.last[seq] = time.monotonic()
        self.total += rcpts

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.record(envelope.original_content or b"", len(envelope.rcpt_tos))
        return "250 OK"


class _FastSMTP(asyncio.Protocol):
    """A minimal SMTP server that pipelines and parses nothing but the command verbs.

    It answers every command of a pipelined group in one write, accepts every
    recipient, and finds the end of DATA by the ``CRLF . CRLF`` terminator without
    undoing dot-stuffing, so it costs the client almost nothing per recipient.
    """

    def __init__(self, counter: _Counter) -> None:
        self.counter = counter
        self.buffer = b""
        self.in_data = False
        self.rcpts = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 benchsink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies: list[bytes] = []
        while self.buffer:
            if self.in_data and not self._data_done(replies):
                break
            if not self.in_data:
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    break
                line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
                replies.append(self._command(line[:4].upper()))
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))

    def _command(self, verb: bytes) -> bytes:
        if verb == b"RCPT":
            self.rcpts += 1
            return b"250 2.1.5 OK\r\n"
        if verb in (b"MAIL", b"RSET"):
            self.rcpts = 0
            return b"250 2.1.0 OK\r\n"
        if verb == b"DATA":
            if not self.rcpts:
                return b"503 5.5.1 No valid recipients\r\n"
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"EHLO":
            return b"250-benchsink\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
        if verb == b"QUIT":
            assert self.transport is not None
            self.transport.write(b"221 2.0.0 Bye\r\n")
            self.transport.close()
            return b""
        if verb in (b"HELO", b"NOOP"):
            return b"250 OK\r\n"
        return b"500 5.5.2 Unknown command\r\n"

    def _data_done(self, replies: list[bytes]) -> bool:
        """Consume a complete message from the buffer, if there is one."""
        if self.buffer.startswith(b".\r\n"):
            end, skip = 0, 3
        else:
            end = self.buffer.find(b"\r\n.\r\n")
            if end < 0:
                return False
            skip = 5
        content, self.buffer = self.buffer[:end], self.buffer[end + skip :]
        self.counter.record(content, self.rcpts)
        self.in_data, self.rcpts = False, 0
        replies.append(b"250 2.0.0 OK\r\n")
        return True


async def _serve_fast(port: int, counter: _Counter, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _FastSMTP(counter), "127.0.0.1", port)
    conn.send("ready")
    while True:
        # The pipe is polled between turns of the loop, so answering stats costs the
        # SMTP side nothing while the bench is idle.
        if conn.poll():
            request = conn.recv()
            if request == "stop":
                break
            conn.send((counter.total, dict(counter.copies), dict(counter.last)))
        await asyncio.sleep(0.005)
    server.close()


def _serve(port: int, conn: Connection, kind: str) -> None:
    counter = _Counter()
    if kind == "fast":
        asyncio.run(_serve_fast(port, counter, conn))
        return
    controller = Controller(counter, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    conn.send("ready")
    while True:
        request = conn.recv()
        if request == "stop":
            break
        conn.send((counter.total, dict(counter.copies), dict(counter.last)))
    controller.stop()


class BenchSink:
    """Start with ``BenchSink(port)``; ``stats()`` is (total, copies, last arrival)."""

    def __init__(self, port: int, kind: str = "fast") -> None:
        self.port = port
        self.kind = kind
        self._conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(port, child, kind), daemon=True
        )
        self.process.start()
        assert self._conn.recv() == "ready"

    def stats(self) -> tuple[int, dict[int, int], dict[int, float]]:
        self._conn.send("stats")
        result: tuple[int, dict[int, int], dict[int, float]] = self._conn.recv()
        return result

    def stop(self) -> None:
        self._conn.send("stop")
        self.process.join(10)


async def _blast_one(port: int, transactions: int, rcpts: int, body: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    writer.write(b"EHLO bench\r\n")
    while (await reader.readline())[3:4] != b" ":
        pass
    for t in range(transactions):
        lines = [b"MAIL FROM:<bench@example.org>\r\n"]
        lines += [b"RCPT TO:<m%d-%d@example.com>\r\n" % (t, n) for n in range(rcpts)]
        writer.write(b"".join(lines))
        for _ in range(rcpts + 1):
            await reader.readline()
        writer.write(b"DATA\r\n")
        await reader.readline()
        writer.write(body + b".\r\n")
        await reader.readline()
    writer.write(b"QUIT\r\n")
    await writer.drain()
    writer.close()


def blast(port: int, connections: int, transactions: int, rcpts: int) -> float:
    """Deliveries per second the sink takes from a pipelining client."""
    body = b"X-Bench: -1\r\nSubject: blast\r\n\r\n" + b"Hello list.\r\n" * 20
    started = time.monotonic()

    async def run() -> None:
        await asyncio.gather(
            *(_blast_one(port, transactions, rcpts, body) for _ in range(connections))
        )

    asyncio.run(run())
    return connections * transactions * rcpts / (time.monotonic() - started)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    multiprocessing.freeze_support()
