"""SMTP transactions to the MTA over a pool of reused connections.

``smtplib`` in threads: each transaction holds one pooled connection, so several are
in flight at once (``connections``), and a connection is closed after
``max_sessions_per_connection`` transactions so the MTA can balance and recycle.
Each transaction reports what happened to every recipient: accepted, refused
temporarily (4xx, or the connection failed) or permanently (5xx at RCPT), and whether
the message itself was refused (at MAIL FROM or after DATA).  Every transaction is
logged to ``posthorn.smtp`` with its timing and result, labelled with the message's
Message-ID and list (``message-id=<...> list=LIST-ID from=... accepted=N ...``).

When the MTA offers PIPELINING (RFC 2920; Postfix and Exim do), MAIL FROM and every
RCPT TO go in one write and the replies are read afterwards: a batch of 500
recipients costs one round trip instead of 501, which on loopback was most of the
time a bulk delivery took.  DATA still waits for the RCPT replies, so a message is
never sent when no recipient was accepted.

A pooled connection may have been closed by the MTA while it sat idle (Postfix ends
idle clients after ``smtpd_timeout``, 300 s, saying 421).  A reused connection that
fails before the MTA accepted MAIL FROM has delivered nothing, so the transaction is
tried again at once on a new connection instead of failing with 451 and waiting for
a retry.  Connections idle longer than ``idle_timeout`` are closed (by a reaper thread,
and never reused), so most of the time the MTA's own timeout is never reached.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from posthorn.delivery.replies import SMTPClient

__all__ = ["SMTPSettings", "Transaction", "Transport"]

log = logging.getLogger("posthorn.smtp")

# Bytes of a message mended and sent at a time (see ``_data``).
DATA_SLICE = 256 * 1024
_EOL = re.compile(rb"\r\n|\r|\n")
_PERIOD = re.compile(rb"^\.", re.MULTILINE)


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    connect_timeout: float = 30.0
    command_timeout: float = 300.0
    max_sessions_per_connection: int = 0
    #: A pooled connection idle this long is closed (below the MTA's own timeout).
    idle_timeout: float = 60.0
    user: str = ""
    password: str = ""


@dataclass
class Transaction:
    """The outcome of one MAIL/RCPT/DATA exchange."""

    recipients: list[str]
    accepted: list[str] = field(default_factory=list)
    temporary: dict[str, tuple[int, str]] = field(default_factory=dict)
    permanent: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: The message was refused as a whole (MAIL FROM or DATA): code and text.
    message_error: tuple[int, str] | None = None
    #: The MTA accepted MAIL FROM: from here on, a failure is not retried at once.
    mail_accepted: bool = False

    def fail_all(self, code: int, text: str) -> None:
        """Every recipient not yet refused is refused with ``code``."""
        target = self.permanent if code >= 500 else self.temporary
        for address in self.recipients:
            if address not in self.permanent and address not in self.temporary:
                target[address] = (code, text)
        self.accepted = []


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class _Connection:
    def __init__(self, settings: SMTPSettings) -> None:
        self.smtp = SMTPClient(timeout=settings.connect_timeout)
        try:
            self.smtp.connect(settings.host, settings.port)
            if self.smtp.sock is not None:
                _kernel_timeout(self.smtp.sock, settings.command_timeout)
                # Every command is written whole: nothing gains from Nagle's delay.
                self.smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.smtp.ehlo_or_helo_if_needed()
            if settings.user:
                self.smtp.login(settings.user, settings.password)
        except BaseException:
            # Nobody else holds this connection yet: a greeting, EHLO or login that
            # fails would leave its socket open until the garbage collector came by.
            self.smtp.close()
            raise
        self.sessions = 0
        self.idle_since = time.monotonic()
        self.pipelining = self.smtp.has_extn("pipelining")

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()


def _kernel_timeout(sock: socket.socket, seconds: float) -> None:
    """Blocking I/O on ``sock`` that the kernel ends after ``seconds``.

    Python's own socket timeout polls the socket before every send and receive: two
    system calls more per round trip, some two hundred more for a post to a hundred
    members when the MTA takes one RCPT at a time.  With SO_RCVTIMEO and SO_SNDTIMEO a
    stalled MTA still ends the call, with an OSError (BlockingIOError) as before.
    """
    if seconds <= 0:
        sock.settimeout(None)
        return
    whole = int(seconds)
    value = struct.pack("@ll", whole, int((seconds - whole) * 1_000_000))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
    sock.settimeout(None)


class Transport:
    """Sends messages to one MTA; safe to call from several threads at once."""

    def __init__(self, settings: SMTPSettings) -> None:
        self.settings = settings
        self._idle: deque[_Connection] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._reaper: threading.Thread | None = None

    def _acquire(self) -> tuple[_Connection, bool]:
        """A connection, and whether it was reused from the pool."""
        stale = []
        found = None
        with self._lock:
            limit = time.monotonic() - self.settings.idle_timeout
            while self._idle:
                connection = self._idle.pop()  # the most recently used first
                if connection.idle_since > limit:
                    found = connection
                    break
                stale.append(connection)
        for connection in stale:
            connection.close()
        if found is not None:
            return found, True
        return _Connection(self.settings), False

    def _release(self, connection: _Connection) -> None:
        connection.sessions += 1
        limit = self.settings.max_sessions_per_connection
        if (limit and connection.sessions >= limit) or self._closing.is_set():
            connection.close()
            return
        connection.idle_since = time.monotonic()
        with self._lock:
            self._idle.append(connection)
            if self._reaper is None:
                # Started on first use, in the process that uses it (runners fork).
                self._reaper = threading.Thread(target=self._reap, name="smtp-reaper", daemon=True)
                self._reaper.start()

    def _reap(self) -> None:
        """Close the connections idle longer than ``idle_timeout``, until ``close``."""
        pause = min(max(self.settings.idle_timeout / 4, 0.05), 5.0)
        while not self._closing.wait(pause):
            limit = time.monotonic() - self.settings.idle_timeout
            with self._lock:
                stale = [c for c in self._idle if c.idle_since <= limit]
                for connection in stale:
                    self._idle.remove(connection)
            for connection in stale:
                log.debug(
                    "closing a connection idle for %.0fs", time.monotonic() - connection.idle_since
                )
                connection.close()

    def close(self) -> None:
        self._closing.set()
        with self._lock:
            idle = list(self._idle)
            self._idle.clear()
        for connection in idle:
            connection.close()
        if self._reaper is not None and self._reaper is not threading.current_thread():
            self._reaper.join(timeout=5)

    def send(
        self,
        sender: str,
        recipients: list[str],
        data: bytes,
        *,
        message_id: str = "",
        list_id: str = "",
    ) -> Transaction:
        """One transaction; never raises for SMTP or network trouble (see Transaction).

        ``message_id`` and ``list_id`` only label the transaction's line in the log.
        """
        started = time.monotonic()
        result, stale = self._try(sender, recipients, data)
        if stale is not None:
            log.info("message-id=%s a pooled connection was gone (%s); sending on a new one",
                     _one_token(message_id), stale)  # fmt: skip
            result, _ = self._try(sender, recipients, data, reuse=False)
        _log_transaction(sender, result, time.monotonic() - started, message_id, list_id)
        return result

    def _try(
        self, sender: str, recipients: list[str], data: bytes, *, reuse: bool = True
    ) -> tuple[Transaction, str | None]:
        """One attempt; the error when a reused connection failed before MAIL FROM."""
        result = Transaction(list(recipients))
        connection = None
        try:
            connection, reused = self._acquire() if reuse else (_Connection(self.settings), False)
            self._exchange(connection, sender, result, data)
        except (smtplib.SMTPException, OSError) as error:
            if connection is not None:
                connection.smtp.close()
                stale = reused and not result.mail_accepted
                connection = None
                if stale:
                    return result, f"{type(error).__name__}: {error}"
            code = getattr(error, "smtp_code", 451)
            code = code if isinstance(code, int) and 400 <= code < 600 else 451
            result.fail_all(code if code < 500 else 451, f"{type(error).__name__}: {error}")
        finally:
            if connection is not None:
                self._release(connection)
        return result, None

    def _exchange(
        self, connection: _Connection, sender: str, result: Transaction, data: bytes
    ) -> None:
        smtp = connection.smtp
        if connection.pipelining:
            replies = _pipelined_envelope(smtp, sender, result.recipients)
        else:
            replies = _envelope(smtp, sender, result.recipients)
        code, reply = replies[0]
        if code == 421:
            # The MTA is closing this session (its idle timeout, a shutdown): a
            # connection problem, not a verdict on the message.
            raise smtplib.SMTPResponseException(code, reply)
        if code != 250:
            result.message_error = (code, _text(reply))
            result.fail_all(code, _text(reply))
            smtp.rset()
            return
        result.mail_accepted = True
        for address, (code, reply) in zip(result.recipients, replies[1:], strict=True):
            if code in (250, 251):
                result.accepted.append(address)
            elif code >= 500:
                result.permanent[address] = (code, _text(reply))
            else:
                result.temporary[address] = (code, _text(reply))
        if not result.accepted:
            smtp.rset()
            return
        reply_text: bytes | str
        try:
            code, reply_text = _data(smtp, data)
        except smtplib.SMTPDataError as error:
            code, reply_text = error.smtp_code, error.smtp_error
        reply = reply_text if isinstance(reply_text, bytes) else reply_text.encode()
        if code != 250:
            result.message_error = (code, _text(reply))
            result.fail_all(code, _text(reply))


def _data(smtp: SMTPClient, data: bytes) -> tuple[int, bytes]:
    """``smtp.data(data)``, sent a slice at a time.

    smtplib makes three whole copies of the message on the way (line ends, quoted
    periods, the final dot); here each slice is mended and sent on its own.  A slice
    ends just after a line end, so the next one starts a line and no CRLF is cut.
    """
    code, reply = smtp.docmd("DATA")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    start, end = 0, len(data)
    while start < end:
        stop = data.find(b"\n", start + DATA_SLICE)
        stop = end if stop < 0 else stop + 1
        piece = data[start:stop]
        # Each substitution only where needed: counting is much cheaper.
        if piece.count(b"\r") != piece.count(b"\n") or piece.count(b"\r\n") != piece.count(b"\n"):
            piece = _EOL.sub(b"\r\n", piece)
        if piece.startswith(b".") or b"\n." in piece:
            piece = _PERIOD.sub(b"..", piece)
        if stop < end:
            smtp.send(piece)
        else:
            # The last slice and the final dot in one write: sent on their own, the
            # dot waited behind the slice for the MTA's delayed ACK (Nagle), some 40 ms
            # per message on loopback.
            smtp.send(piece + (b".\r\n" if piece.endswith(b"\r\n") else b"\r\n.\r\n"))
        start = stop
    if not data:
        smtp.send(b".\r\n")
    return smtp.getreply()


def _envelope(smtp: SMTPClient, sender: str, recipients: list[str]) -> list[tuple[int, bytes]]:
    """MAIL FROM, then each RCPT TO, one round trip each; stops at a refused MAIL FROM."""
    replies = smtp.one_by_one([f"MAIL FROM:{_quoted(sender)}\r\n".encode(smtp.command_encoding)])
    if replies[0][0] == 250:
        # ``smtp.rcpt(address)`` each, less its per-address parse and reply overhead.
        replies += smtp.one_by_one(_rcpt_lines(recipients, smtp.command_encoding))
    return replies


def _pipelined_envelope(
    smtp: SMTPClient, sender: str, recipients: list[str]
) -> list[tuple[int, bytes]]:
    """The same as ``_envelope`` in one write; every reply is read even after a refusal."""
    smtp.send(f"MAIL FROM:{_quoted(sender)}\r\n{_rcpt_commands(recipients)}")
    replies = smtp.replies(1 + len(recipients))
    if replies[0][0] != 250:
        # RFC 2920: after a refused MAIL FROM the RCPTs are refused too; the envelope
        # is what failed, reported once.
        return replies[:1]
    return replies


# An address smtplib.quoteaddr would only put in angle brackets: no display name, no
# comment, no quoting, nothing to parse.
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")
# Plain addresses, one a line (no address holds a line end).
_PLAIN_ADDRESSES = re.compile(rf"{_PLAIN_ADDRESS.pattern}(?:\n{_PLAIN_ADDRESS.pattern})*")


def _rcpt_commands(recipients: list[str]) -> str:
    """An RCPT TO command for each recipient; when all are plain, with one check."""
    if _PLAIN_ADDRESSES.fullmatch("\n".join(recipients)):
        return "".join(("RCPT TO:<", ">\r\nRCPT TO:<".join(recipients), ">\r\n"))
    return "".join(f"RCPT TO:{_quoted(address)}\r\n" for address in recipients)


def _rcpt_lines(recipients: list[str], encoding: str) -> list[bytes]:
    """The RCPT TO command of each recipient, one a line, as bytes to write."""
    if _PLAIN_ADDRESSES.fullmatch("\n".join(recipients)):
        return [f"RCPT TO:<{address}>\r\n".encode(encoding) for address in recipients]
    return [f"RCPT TO:{_quoted(address)}\r\n".encode(encoding) for address in recipients]


def _quoted(address: str) -> str:
    """``smtplib.quoteaddr(address)``, without parsing a plain address (most are)."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _log_transaction(
    sender: str, result: Transaction, seconds: float, message_id: str, list_id: str
) -> None:
    # The Message-ID and list make each line traceable (``posthorn where``).  Both come
    # from the message, so anything that could break the one-line format is replaced.
    message_id = _one_token(message_id)
    list_id = _one_token(list_id)
    outcome = "ok"
    if result.message_error:
        outcome = f"refused {result.message_error[0]} {result.message_error[1]!r}"
    elif result.temporary or result.permanent:
        outcome = "partial" if result.accepted else "failed"
    log.info("message-id=%s list=%s from=%s rcpts=%d accepted=%d temporary=%d permanent=%d "
             "time=%.1fms %s", message_id, list_id, sender, len(result.recipients),
             len(result.accepted), len(result.temporary), len(result.permanent),
             seconds * 1000, outcome)  # fmt: skip


def _one_token(value: str) -> str:
    if value.isprintable() and " " not in value:
        # The usual case, checked at once: the only whitespace ``isprintable`` lets
        # through is the space.
        return value or "-"
    return "".join("_" if ch.isspace() or not ch.isprintable() else ch for ch in value) or "-"
