"""The LMTP runner: how mail from the MTA enters Posthorn.

It serves LMTP on ``[mta] lmtp_host``:``lmtp_port`` in its own asyncio loop, with
aiosmtpd's ``LMTP`` protocol on a plain ``loop.create_server`` (no aiosmtpd Controller,
no extra thread); a connection is ``posthorn.intake.session.LMTPSession`` and what
happens to recipients and messages is ``posthorn.intake.lmtp.LMTPIntake``.  Logs as
``posthorn.lmtp``.

Limits, so that a slow or hostile client cannot starve the MTA's real deliveries:

- ``[runner.lmtp] max_connections``: when that many are open, a newcomer takes the
  slot of the session idle longest, which is told 421; only when every session is at
  work (in DATA, or a command being handled) is the newcomer told 421 (``slots``);
- ``[runner.lmtp] idle_timeout``: a connection silent that long between commands, or
  still sending its DATA, is closed; while the cap is full, a session waits only
  ``pressure_idle_timeout`` for its next command;
- ``[mta] max_message_size``: announced as SIZE in the LHLO reply, 552 beyond it; on
  the amqp backend, no more than the broker takes (``[queues] amqp_max_message_size``,
  less ``ENTRY_ROOM``), and an entry the queue still refuses as too big is 552.  Long
  lines are not refused on their own: the line limit is the size limit, because the
  MTA in front has already accepted the message and a list server is no place to
  enforce RFC 5321 line lengths.

DATA is read by ``posthorn.intake.data`` into one buffer rather than by aiosmtpd, which
holds a large message about three times over.  A message that is too big (or has a
line too long) gets one ``552 5.3.4`` per recipient, naming the limit: LMTP needs one
reply per recipient, or the MTA waits for the rest and times out.

The master listens on the port (``runners/listening.py``) for every instance, so that
the runner can exit ``RECYCLE`` after ``max_idle`` with no session open and no message
being written, a client meanwhile waiting in the backlog.  (Else each instance binds it,
SO_REUSEPORT, and stays.)  On SIGTERM the runner stops listening, lets messages being
stored finish (up to ``STOP_GRACE`` seconds), then tells the remaining clients 421.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from typing import Any

from posthorn import __version__
from posthorn.config import Config, ConfigError
from posthorn.intake.lmtp import LMTPIntake
from posthorn.intake.precheck import Limits
from posthorn.intake.session import LMTPSession
from posthorn.intake.slots import Slots
from posthorn.interfaces.queues import ISwitchboard
from posthorn.queuing import queue_settings
from posthorn.runners.base import ExitCode, ServiceRunner
from posthorn.runners.listening import Idleness, Listeners, listen_for
from posthorn.site import Site

__all__ = ["LMTPRunner"]

# How long a stopping runner waits for messages being stored before it hangs up.
STOP_GRACE = 5.0
# The line limit when [mta] max_message_size is 0 (no limit on size).
UNLIMITED_LINE = 2**30
TOO_MANY_CONNECTIONS = b"421 4.3.2 Too many connections, try again later\r\n"
SHUTTING_DOWN = b"421 4.3.2 Service shutting down, try again later\r\n"
AIOSMTPD_LOGGER = "mail.log"
# What a queue entry adds to a message (its metadata, a Message-ID made for it), with
# room to spare: a message within the SIZE announced fits the broker's limit.
ENTRY_ROOM = 64 * 1024


class _Refusal(asyncio.Protocol):
    """A connection over the cap: told to come back later, then closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(TOO_MANY_CONNECTIONS)
        transport.close()


class LMTPRunner(ServiceRunner):
    """Serves LMTP until stopped, or idle; see the module docstring."""

    # The sockets the master listens on for every runner it starts (``preload``).
    _listening: Listeners | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mta = self.site.config["mta"]
        self.host = mta.get_str("lmtp_host")
        self.port = mta.get_int("lmtp_port")
        self.max_message_size = size_limit(self.site.config, self.log)
        self.max_recipients = mta.get_int("max_recipients")
        self.limits = Limits.from_section(mta)
        self.max_connections = self.section.get_int("max_connections")
        self.idle_timeout = self.section.get_float("idle_timeout")
        self.pressure_idle_timeout = self.section.get_float("pressure_idle_timeout")
        self.hostname = self.section.get_str("hostname")
        self._check_limits()
        self.slots: Slots[LMTPSession] = Slots(
            self.max_connections, self.idle_timeout, self.pressure_idle_timeout
        )
        self._queue_lock = threading.Lock()
        self.idleness = Idleness(self.section.get_float("max_idle"), self.sleep_time)
        self._idle_out = False

    @classmethod
    def preload(cls, site: Site) -> None:
        """Listen on the LMTP port in the master, for every runner it starts."""
        mta = site.config["mta"]
        cls._listening = listen_for("LMTP", mta.get_str("lmtp_host"), mta.get_int("lmtp_port"))

    def run(self) -> ExitCode:
        code = super().run()
        if code == ExitCode.OK and self._idle_out:
            return ExitCode.RECYCLE
        return code

    def _check_limits(self) -> None:
        """Refuse limits that would turn every client away (a configuration error)."""
        mta = self.site.config["mta"]
        for section, key, bad in (
            (self.section, "max_connections", self.max_connections < 1),
            (mta, "max_recipients", self.max_recipients < 1),
            (self.section, "idle_timeout", self.idle_timeout <= 0),
            (self.section, "pressure_idle_timeout", self.pressure_idle_timeout <= 0),
        ):
            if bad:
                raise ConfigError(
                    f"must be more than 0, got {section.raw(key)!r}",
                    file=section.source(key),
                    section=section.name,
                    key=key,
                )

    def locked_queue(self, name: str) -> ISwitchboard:
        """``self.queue`` for worker threads: a queue is created once, whoever asks first."""
        with self._queue_lock:
            return self.queue(name)

    async def serve(self, stopping: asyncio.Event) -> None:
        # aiosmtpd logs every command at INFO; keep that for debugging only.
        if not self.log.isEnabledFor(logging.DEBUG):
            logging.getLogger(AIOSMTPD_LOGGER).setLevel(logging.WARNING)
        hostname = self.hostname or await asyncio.to_thread(socket.getfqdn)
        intake = LMTPIntake(
            self.site,
            self.locked_queue,
            limits=self.limits,
            max_recipients=self.max_recipients,
            hostname=hostname,
            log=self.log,
        )
        loop = asyncio.get_running_loop()
        listeners = self._listening
        if listeners is not None and listeners.address != (self.host, self.port):
            listeners = None
        own = {"host": self.host, "port": self.port, "reuse_port": self.count > 1 or None}
        wheres: list[dict[str, Any]] = (
            [{"sock": s} for s in listeners.sockets] if listeners else [own]
        )
        factory = lambda: self._protocol(intake, hostname, loop)  # noqa: E731
        servers = [await loop.create_server(factory, **where) for where in wheres]
        bound = ", ".join(str(s.getsockname()[:2]) for v in servers for s in v.sockets)
        self.log.info("listening for LMTP on %s", bound)
        # The event loop's own CPU (this thread's), reported per entry at the end.
        loop_cpu = time.thread_time()
        try:
            if listeners is not None and self.idleness.max_idle:
                busy = lambda: bool(self.slots or intake.busy or intake.writing)  # noqa: E731
                if await self.idleness.wait(stopping, busy, servers):
                    self.log.info("idle for %gs after %d sessions; exiting to be recycled",
                                  self.idleness.max_idle, self.idleness.served)  # fmt: skip
                    self._idle_out = True
            else:
                await stopping.wait()
        finally:
            for server in servers:
                server.close()
            await self._finish(intake)
            intake.close()
        loop_cpu = time.thread_time() - loop_cpu
        self.log.info(
            "stopped; stored %d entries with %d directory fsyncs; event loop CPU %.3f ms per entry",
            intake.stored,
            intake.syncs,
            loop_cpu * 1000 / max(intake.stored, 1),
        )

    def _protocol(
        self, intake: LMTPIntake, hostname: str, loop: asyncio.AbstractEventLoop
    ) -> asyncio.BaseProtocol:
        if self.slots.full:
            if not self.slots.make_room():
                self.log.warning("refused a connection: %d open, all at work", len(self.slots))
                return _Refusal()
            self.log.info("closed the connection idle longest to serve a new one")
        self.idleness.touch(served=True)
        return LMTPSession(
            intake,
            slots=self.slots,
            ended=self.idleness.touch,
            # A line may be as long as the whole message (plus CRLF and a stuffed dot).
            line_length_limit=(self.max_message_size or UNLIMITED_LINE) + 3,
            data_size_limit=self.max_message_size,
            enable_SMTPUTF8=True,
            hostname=hostname,
            ident=f"Posthorn {__version__}",
            timeout=self.idle_timeout,
            loop=loop,
        )

    async def _finish(self, intake: LMTPIntake) -> None:
        """Let messages being stored get their replies, then hang up on everyone."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(intake.idle.wait(), STOP_GRACE)
        if intake.busy:
            self.log.warning("stopping with %d messages still being stored", intake.busy)
        for session in self.slots:
            session.hang_up(SHUTTING_DOWN)
        # Give the closed transports a turn of the loop to flush and call connection_lost.
        await asyncio.sleep(0)


def size_limit(config: Config, log: logging.Logger) -> int:
    """The largest message taken (0: any): ``[mta] max_message_size``, or less where the
    amqp backend's broker takes less, so the MTA hears 552 for it at once (SIZE)."""
    limit = config["mta"].get_int("max_message_size")
    settings = queue_settings(config)
    if settings.backend != "amqp" or not settings.amqp_max_message_size:
        return limit
    broker = max(settings.amqp_max_message_size - ENTRY_ROOM, 1)
    if limit and limit <= broker:
        return limit
    broker_limit = settings.amqp_max_message_size
    log.info("messages over %d bytes are refused: [queues] amqp_max_message_size is %d, "
             "[mta] max_message_size %d", broker, broker_limit, limit)  # fmt: skip
    return broker
