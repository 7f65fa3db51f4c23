"""One LMTP connection: aiosmtpd's LMTP session, with the runner's limits and a lean path.

What it changes from aiosmtpd's ``LMTP``:

- DATA is read by ``data`` into one buffer, with the line limit being the size limit;
  a message too big gets one ``552 5.3.4`` per recipient, as LMTP owes;
- the session tells ``slots`` when it is at work (never evicted) and idle, and its
  idle timeout follows how full the slots are (one timer per session, moved, not
  replaced, at every command);
- envelope addresses already parsed are kept (``_getaddr``);
- replies are written without a debug line or a drain each, and the replies to
  MAIL, RCPT and RSET wait while the client's next command is already read: a
  pipelining client's MAIL, RCPT and DATA are answered in one write, as RFC 2920
  (section 3.1) asks of a server.  DATA's replies, and every other, go at once, so a
  client is never kept waiting for a reply it needs before it sends on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, AnyStr

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import MISSING, syntax

from posthorn.intake.data import TooBig, read_data
from posthorn.intake.lmtp import LMTPIntake
from posthorn.intake.slots import Slots

__all__ = ["EVICTED", "LMTPSession"]

EVICTED = b"421 4.3.2 All connection slots in use, closing an idle one\r\n"
# Bytes read from a client at once (see LMTPSession.connection_made).
RECEIVE_SIZE = 64 * 1024
# The commands whose replies may wait for the next reply (RFC 2920, section 3.1).
HELD = frozenset({"MAIL", "RCPT", "RSET"})


# A plain ``<address>`` and what follows it, for the envelope-address cache below.
_PLAIN_ANGLE = re.compile(r"(<[^<>\"\\()\s]+>)([^()]*)\Z")
# Envelope addresses parsed, and the longest argument kept; cleared whole when full.
_ADDRESS_CACHE = 4096
_ADDRESS_LENGTH = 512
_addresses: dict[tuple[str, int], tuple[str | None, str | None]] = {}


class LMTPSession(LMTP):
    """One LMTP connection: aiosmtpd's LMTP with our line limit and per-recipient errors."""

    def __init__(
        self,
        handler: LMTPIntake,
        *,
        slots: Slots[LMTPSession],
        ended: Callable[[], None],
        line_length_limit: int,
        **options: Any,
    ) -> None:
        # Set before SMTP.__init__, which sizes its stream buffer by it.
        self.line_length_limit = line_length_limit
        super().__init__(handler, **options)
        self._slots = slots
        self._ended = ended
        # None while a command is being handled (DATA included) or before the greeting.
        self.idle_since: float | None = None
        # When the connection is closed if no command comes (see _reset_timeout).
        self._deadline = 0.0
        # Replies written but held back (see ``push``), and whether to hold them now.
        self._owed: list[bytes] = []
        self._holding = False
        self._smtp_methods = {
            name: self._at_work(method, name in HELD) for name, method in self._smtp_methods.items()
        }
        # Counted from creation, not from connection_made: a burst of accepts creates
        # several sessions before the first of them is told it is connected.
        slots.add(self)

    def _at_work(self, method: Callable[[str], Awaitable[None]], held: bool) -> Callable[..., Any]:
        """``method``, with the session marked busy (never evicted) while it runs.

        A ``held`` command's replies wait when the client's next command line is
        already in the stream's buffer: that command is then read without waiting for
        the client, and its reply, or a later one, takes this one along.  (aiosmtpd
        itself reaches into the reader's buffer; there is no public way to ask.)
        """

        @functools.wraps(method)
        async def run(arg: str) -> None:
            self.idle_since = None
            self._holding = held and b"\n" in self._reader._buffer  # type: ignore[attr-defined]
            try:
                await method(arg)
            finally:
                self._holding = False
                self.idle_since = time.monotonic()

        return run

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's parse of a MAIL/RCPT argument, kept per ``<address>``.

        The header parser it uses is a fifth of the runner's work per post, for the same
        few addresses again and again.  Only a plain ``<address>`` (no quote, comment,
        backslash or space, and not the empty ``<>``) is kept; the parameters after it
        (SIZE, BODY) differ per message and are split off as the parser would: after
        the ``>``, without the blanks before them.
        """
        plain = _PLAIN_ANGLE.match(arg) if len(arg) <= _ADDRESS_LENGTH else None
        if plain is None:
            return super()._getaddr(arg)
        key = (plain.group(1), self.local_part_limit)
        found = _addresses.get(key)
        if found is None:
            found = super()._getaddr(plain.group(1))
            if len(_addresses) >= _ADDRESS_CACHE:
                _addresses.clear()
            _addresses[key] = found
        address, rest = found
        if address is None or rest:
            # Not parsed, or not to its ">": the whole argument as aiosmtpd reads it.
            return super()._getaddr(arg)
        return address, plain.group(2).lstrip(" \t")

    @property
    def in_transaction(self) -> bool:
        return self.envelope is not None and self.envelope.mail_from is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.idle_since = time.monotonic()
        if hasattr(transport, "max_size"):
            # asyncio receives into a new bytes object of this size each time, then
            # shrinks it; at its 256 KiB, above malloc's mmap threshold, that is an mmap,
            # an mremap and a munmap per read.
            transport.max_size = RECEIVE_SIZE

    def connection_lost(self, error: Exception | None) -> None:
        self._slots.discard(self)
        self._ended()
        super().connection_lost(error)

    def _reset_timeout(self, duration: float | None = None) -> None:
        """Move the deadline; only a deadline earlier than the timer's sets a new timer.

        aiosmtpd cancels its timer and starts another at every command, which leaves a
        cancelled timer in the loop's heap per command; here the one timer, when it
        fires early, is set again for the deadline as it stands then.  The timeout for
        the next command depends on how full the slots are now.
        """
        self._deadline = self.loop.time() + (duration or self._slots.timeout())
        timer = self._timeout_handle
        if timer is None or timer.cancelled() or timer.when() > self._deadline:
            if timer is not None:
                timer.cancel()
            self._timeout_handle = self.loop.call_at(self._deadline, self._timeout_cb)

    def _timeout_cb(self) -> None:
        if self._deadline > self.loop.time():
            self._timeout_handle = self.loop.call_at(self._deadline, self._timeout_cb)
            return
        super()._timeout_cb()  # type: ignore[no-untyped-call]

    def shorten(self, timeout: float) -> None:
        if self.transport is None or self.idle_since is None:
            return
        remaining = self.idle_since + timeout - time.monotonic()
        self._reset_timeout(max(remaining, 0.001))

    async def push(self, status: AnyStr) -> None:
        """aiosmtpd's push, without a debug log line and a drain per reply.

        While a held command runs (``_at_work``) the reply is kept for the next one
        that goes out; a reply that goes out takes every reply kept before it, in one
        write.  The drain is awaited only when it has something to do: replies waiting
        in the transport's buffer, or a connection closing (where it raises, ending the
        session).
        """
        response = status.encode() if isinstance(status, str) else status
        transport = self.transport
        if not isinstance(transport, asyncio.WriteTransport):
            raise ConnectionResetError("Connection lost")
        if self._holding:
            self._owed.append(response + b"\r\n")
            return
        if self._owed:
            self._owed.append(response + b"\r\n")
            transport.write(b"".join(self._owed))
            self._owed.clear()
        else:
            transport.write(response + b"\r\n")
        if transport.get_write_buffer_size() or transport.is_closing():
            await self._writer.drain()

    def evict(self) -> None:
        self.hang_up(EVICTED)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        # Not aiosmtpd's: that one holds a large message about three times over (see
        # posthorn.intake.data).  The checks before the 354 are the same as its.
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        # The whole DATA phase runs on the normal timeout, pressure or not: a large
        # message on a slow link is never cut short because others are waiting.
        self._reset_timeout(self._slots.idle_timeout)
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content = await read_data(self._reader, self.data_size_limit or 0)
        except TooBig:
            # LMTP owes one reply per recipient, refusals included.
            reply = f"552 5.3.4 Message too big (limit {self.data_size_limit} bytes)"
            replies = "\r\n".join([reply] * len(self.envelope.rcpt_tos))
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            await self.push(replies)
            return
        # A bytearray, not the bytes aiosmtpd would give: LMTPIntake takes either.
        self.envelope.original_content = content  # type: ignore[assignment]
        self.envelope.content = content  # type: ignore[assignment]
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)

    def hang_up(self, farewell: bytes) -> None:
        """Say ``farewell`` after any replies still held, and close the connection."""
        if self.transport is not None:
            owed, self._owed = b"".join(self._owed), []
            with contextlib.suppress(Exception):
                self.transport.write(owed + farewell)  # type: ignore[attr-defined]
            self.transport.close()
