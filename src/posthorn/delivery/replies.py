"""An SMTP client that reads the MTA's replies many at a time.

A pipelined envelope (``delivery.smtp``) of 500 recipients is answered by 501 replies,
and an MTA such as aiosmtpd writes each as it handles its command.  smtplib reads them
a line at a time from a buffered file, and a reader that keeps up with the MTA wakes,
polls and receives once per reply: that was most of the outgoing runner's CPU per
recipient.  Here the replies are parsed from one buffer of the connection's own, and
while more than one is awaited the socket's low-water mark (``SO_RCVLOWAT``) is raised
to the fewest bytes the replies still missing can take, so the kernel wakes the reader
once most of them are in rather than once per reply.  A reply is at least four octets
("250" and a line end), so the mark never asks for more than the MTA will send.

An MTA without PIPELINING is sent one command at a time (``one_by_one``), each after
the reply to the one before: a round trip per recipient, so what the client does per
round trip is on the path of every copy.  There the usual reply, one line arriving on
its own, is taken straight from the received bytes, and each command is written with
one call, without smtplib's per-command encoding and checks.

Every reply is read as ``smtplib.SMTP.getreply`` reads it: the same codes, texts
(continuation lines joined by LF) and errors.
"""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterable
from typing import NoReturn

__all__ = ["SMTPClient"]

# The fewest octets of a reply: three digits and LF (RFC 5321 asks for CRLF).
MIN_REPLY = 4
# The highest low-water mark asked for: the kernel halves the receive buffer for it.
MAX_LOWAT = 32 * 1024
# Bytes asked of the socket at a time.
RECEIVE = 64 * 1024
# The longest reply line smtplib reads (its own _MAXLINE).
MAXLINE = 8192
_LOWAT = getattr(socket, "SO_RCVLOWAT", None)


class SMTPClient(smtplib.SMTP):
    """``smtplib.SMTP`` whose replies come from ``replies``, in bulk."""

    _pending = b""
    _lowat = 1

    def getreply(self) -> tuple[int, bytes]:
        return self.replies(1)[0]

    def replies(self, count: int) -> list[tuple[int, bytes]]:
        """The next ``count`` replies, each (code, text), as ``getreply`` gives them."""
        found: list[tuple[int, bytes]] = []
        data, start = self._pending, 0
        lines: list[bytes] = []
        while len(found) < count:
            end = data.find(b"\n", start)
            if end < 0:
                if len(data) - start > MAXLINE:
                    self._fail(smtplib.SMTPResponseException(500, "Line too long."))
                data = data[start:] + self._receive(count - len(found), len(data) - start)
                start = 0
                continue
            line = data[start : end + 1]
            start = end + 1
            if len(line) > MAXLINE:
                self._fail(smtplib.SMTPResponseException(500, "Line too long."))
            lines.append(line[4:].strip(b" \t\r\n"))
            if line[3:4] == b"-":
                code = _code(line[:3])
                if code != -1:
                    continue
            else:
                code = _code(line[:3])
            found.append((code, lines[0] if len(lines) == 1 else b"\n".join(lines)))
            lines = []
        self._pending = data[start:]
        return found

    def one_by_one(self, commands: Iterable[bytes]) -> list[tuple[int, bytes]]:
        """Send each command once the reply to the one before is in; their replies."""
        found: list[tuple[int, bytes]] = []
        for command in commands:
            sock = self.sock
            if sock is None:
                raise smtplib.SMTPServerDisconnected("please run connect() first")
            try:
                sock.sendall(command)
            except OSError:
                self._fail(smtplib.SMTPServerDisconnected("Server not connected"))
            if not self._pending:
                chunk = self._receive(1, 0)
                # One whole reply line and nothing more: the reply, as ``replies`` reads it.
                end = len(chunk) - 1
                if chunk[3:4] == b" " and chunk.find(b"\n") == end and end < MAXLINE:
                    found.append((_code(chunk[:3]), chunk[4:].strip(b" \t\r\n")))
                    continue
                self._pending = chunk
            found.extend(self.replies(1))
        return found

    def _receive(self, replies: int, have: int) -> bytes:
        """Some more bytes; while several replies are missing, only once most are in."""
        sock = self.sock
        if sock is None:
            raise smtplib.SMTPServerDisconnected("please run connect() first")
        lowat = max(1, min(MIN_REPLY * replies - have, MAX_LOWAT)) if replies > 1 else 1
        try:
            if lowat != self._lowat and _LOWAT is not None:
                sock.setsockopt(socket.SOL_SOCKET, _LOWAT, lowat)
                self._lowat = lowat
            chunk = sock.recv(RECEIVE)
        except BlockingIOError:
            # The kernel's receive timeout ran out (``delivery.smtp``: command_timeout).
            self._fail(smtplib.SMTPServerDisconnected("no reply within the command timeout"))
        except OSError as error:
            self._fail(smtplib.SMTPServerDisconnected(f"Connection unexpectedly closed: {error}"))
        if not chunk:
            self._fail(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
        return chunk

    def _fail(self, error: smtplib.SMTPException) -> NoReturn:
        self.close()
        raise error

    def close(self) -> None:
        # What a closed connection had buffered is no reply to a later one.
        self._pending = b""
        self._lowat = 1
        super().close()


def _code(digits: bytes) -> int:
    if digits == b"250":
        return 250  # nearly every reply of a delivery
    try:
        return int(digits)
    except ValueError:
        return -1
