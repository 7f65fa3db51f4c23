"""A whole site under fault: a real master, an LMTP poster that behaves like an MTA, a sink.

Used by the fault tests and by ``bench/chaos_bench.py``.  Posts go in over LMTP; a post
counts as accepted only once its 250 arrived, and the poster retries on 4xx replies and
broken connections as an MTA would (so a post may be stored twice when the 250 is lost:
at least once is the contract).  The sink records which member got which Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import smtplib
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from posthorn.config import load_config
from posthorn.site import Site
from tests.processes import START_DEADLINE, free_port, runners_started, start_master, stop
from tests.smtpsink import SMTPSink
from tests.waiting import queues_idle, wait_for

LIST = "chaos@example.org"
POSTER = "poster@example.net"
ALL_RUNNERS = ("lmtp", "incoming", "pipeline", "outgoing", "retry", "virgin", "archive")
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


def member(n: int) -> str:
    return f"m{n}@d{n % 3}.example.com"


class FaultHandler:
    """aiosmtpd hooks that misbehave as ``sink.mode`` says.

    ``ok`` accepts; ``451`` / ``421`` / ``550`` answer that at MAIL FROM (421 also
    closes); ``drop`` closes the connection after DATA has been sent, before any reply.
    ``sink.refuse_data``, when set, is asked for every message: a reply it returns
    refuses that message after DATA (a content filter, a line-length check).
    """

    def __init__(self, sink: FaultSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.sink.lock:
            self.sink.mails += 1
        if self.sink.mode == "451":
            return "451 4.3.0 Try again later"
        if self.sink.mode == "550":
            return "550 5.7.1 Sender refused by policy"
        if self.sink.mode == "421":
            assert server.transport is not None
            server.transport.close()
            return "421 4.3.2 Going away"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.sink.mode == "drop":
            assert server.transport is not None
            server.transport.abort()  # type: ignore[attr-defined]
            return "451 4.3.0 dropped"
        if self.sink.stall:
            # A slow MTA: the transaction stays open (no reply to DATA) this long.
            self.sink.in_data += 1
            try:
                await asyncio.sleep(self.sink.stall)
            finally:
                self.sink.in_data -= 1
        content = envelope.original_content or b""
        refusal = self.sink.refuse_data(content) if self.sink.refuse_data else None
        if refusal:
            with self.sink.lock:
                self.sink.refused.append(content)
            return refusal
        found = _MESSAGE_ID.search(content.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n"))
        mid = found.group(1).decode(errors="replace") if found else "<none>"
        with self.sink.lock:
            self.sink.received.append((str(envelope.mail_from), list(envelope.rcpt_tos), content))
            self.sink.counts.update(address.lower() for address in envelope.rcpt_tos)
            for address in envelope.rcpt_tos:
                self.sink.copies[(mid, address.lower())] += 1
            self.sink.last_arrival = time.monotonic()
        return "250 OK"


class FaultSink(SMTPSink):
    """The test MTA, with ``mode`` to make it fail and ``copies[(message-id, rcpt)]``."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.mode = "ok"
        self.copies: Counter[tuple[str, str]] = Counter()
        self.stall = 0.0  # seconds each reply to DATA comes late
        self.in_data = 0  # transactions waiting for that reply now
        self.refuse_data: Callable[[bytes], str | None] | None = None
        self.refused: list[bytes] = []  # messages refused by refuse_data
        self.mails = 0  # MAIL FROM commands seen: one per transaction tried

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(
            FaultHandler(self), hostname="127.0.0.1", port=self.port, decode_data=False
        )
        self._controller.start()


@dataclass
class Poster:
    """Sends numbered posts over LMTP like an MTA: retry until a 250, count only those."""

    port: int
    prefix: str = "p"
    accepted: list[str] = field(default_factory=list)
    attempts: int = 0
    retries: int = 0
    refused: dict[str, str] = field(default_factory=dict)

    def post(self, n: int, body: bytes | None = None, deadline: float = 60.0, mid: str = "") -> str:
        mid = mid or f"<{self.prefix}-{n}@example.net>"
        data = body if body is not None else make_post(mid, n)
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            self.attempts += 1
            try:
                with smtplib.LMTP("127.0.0.1", self.port, timeout=10) as lmtp:
                    lmtp.sendmail(POSTER, [LIST], data)
            except smtplib.SMTPRecipientsRefused as error:
                code, text = next(iter(error.recipients.values()))
                if code >= 500:
                    self.refused[mid] = f"{code} {text.decode(errors='replace')}"
                    return mid
            except smtplib.SMTPResponseException as error:
                if error.smtp_code >= 500:
                    self.refused[mid] = f"{error.smtp_code} {error.smtp_error!r}"
                    return mid
            except (OSError, smtplib.SMTPException):
                pass
            else:
                self.accepted.append(mid)
                return mid
            self.retries += 1
            time.sleep(0.05)
        raise AssertionError(f"{mid} was never accepted within {deadline}s")


def make_post(mid: str, n: int) -> bytes:
    lines = [f"From: {POSTER}", f"To: {LIST}", f"Subject: chaos {n}", f"Message-ID: {mid}", ""]
    lines += [f"Body line {i} of post {n}." for i in range(5)]
    return ("\r\n".join(lines) + "\r\n").encode()


@dataclass
class Stack:
    """A running site: master, sink, LMTP port, members; and what happened to posts."""

    tmp: Path
    site_file: Path
    sink: FaultSink
    lmtp_port: int
    members: list[str]
    process: subprocess.Popen[bytes] | None = None
    runners: tuple[str, ...] = ALL_RUNNERS

    @property
    def var_dir(self) -> Path:
        return self.tmp / "var"

    def start(self, *, force: bool = False) -> None:
        options = ["--force"] if force else []
        self.process = start_master(self.site_file, self.tmp, subprocess.DEVNULL, *options)
        wait_for(self._greets, "the LMTP greeting, every runner forked", START_DEADLINE)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def _greets(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"the master exited with {self.process.returncode}:\n{self.log('master')}"
            )
        try:
            with socket.create_connection(("127.0.0.1", self.lmtp_port), timeout=1) as sock:
                if not sock.recv(512).startswith(b"220"):
                    return False
        except OSError:
            return False
        assert self.process is not None
        return runners_started(self.var_dir, self.process.pid)

    def state(self) -> dict[str, Any]:
        path = self.var_dir / "run" / "master.json"
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return {}

    def runner_pids(self) -> dict[str, int]:
        """``name/slice`` -> pid of every runner process now running."""
        return {
            f"{r['name']}/{r['slice']}": int(r["pid"])
            for r in self.state().get("runners", [])
            if r.get("pid") and r.get("state") == "running"
        }

    def kill_random_runner(self, rng: random.Random, kind: str = "") -> str | None:
        """SIGKILL one running runner (of ``kind`` if given); return ``name/slice``."""
        pids = {k: v for k, v in self.runner_pids().items() if k.startswith(kind + "/") or not kind}
        if not pids:
            return None
        name = rng.choice(sorted(pids))
        try:
            os.kill(pids[name], signal.SIGKILL)
        except ProcessLookupError:
            return None
        return name

    def log(self, name: str) -> str:
        path = self.var_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def queue_files(self, queue: str) -> list[Path]:
        folder = self.var_dir / "queue" / queue
        return sorted(folder.glob("*.pck")) if folder.exists() else []

    def idle(self) -> bool:
        """No entry waits in, or is claimed from, the queue of a started runner."""
        return queues_idle(self.var_dir / "queue", self.runners)

    def wait_idle(self, deadline: float = 30.0) -> None:
        """Wait until :meth:`idle`: the end state for asserting that nothing more arrives."""
        wait_for(self.idle, "every runner's queue empty and nothing claimed", deadline)

    def outcome(self, accepted: list[str]) -> Outcome:
        """What the sink got for ``accepted`` posts: missing (mid, member) and extra copies."""
        with self.sink.lock:
            copies = Counter(self.sink.copies)
        missing = [(mid, m) for mid in set(accepted) for m in self.members if not copies[(mid, m)]]
        extra = sum(max(c - 1, 0) for (mid, _), c in copies.items() if mid in set(accepted))
        return Outcome(len(set(accepted)) * len(self.members), missing, extra)

    def wait_delivered(self, accepted: list[str], deadline: float) -> Outcome:
        """The outcome once nothing is missing, or after ``deadline`` s (for the test to report)."""
        with contextlib.suppress(AssertionError):
            wait_for(lambda: not self.outcome(accepted).missing, "every copy", deadline)
        return self.outcome(accepted)


@dataclass
class Outcome:
    expected: int
    missing: list[tuple[str, str]]
    duplicates: int


def build(
    tmp: Path,
    members: int = 3,
    *,
    runners: tuple[str, ...] = ALL_RUNNERS,
    extra: dict[str, dict[str, str]] | None = None,
    database_url: str | None = None,
) -> Stack:
    """Write the site file, create the list and start the sink (not the master)."""
    sink = FaultSink(free_port())
    sink.start()
    lmtp_port = free_port()
    sections: dict[str, dict[str, str]] = {
        "paths": {"var_dir": str(tmp / "var")},
        "mta": {"lmtp_port": str(lmtp_port), "smtp_port": str(sink.port)},
        "master": {"restart_pause": "100ms", "restart_pause_max": "1s", "stop_timeout": "5s"},
        "runner.outgoing": {
            "retry_base": "200ms",
            "connect_timeout": "2s",
            "command_timeout": "5s",
        },
    }
    if database_url:
        sections["database"] = {"url": database_url}
    defaults = load_config(None, overrides={"paths": {"var_dir": str(tmp / "var")}})
    for name in defaults.named("runner"):
        section = sections.setdefault(f"runner.{name}", {})
        section["start"] = "yes" if name in runners else "no"
        section["max_restarts"] = "1000"
        section["sleep_time"] = "250ms"
    for name, values in (extra or {}).items():
        sections.setdefault(name, {}).update(values)
    text = "".join(
        f"[{name}]\n" + "".join(f"{k}: {v}\n" for k, v in values.items()) + "\n"
        for name, values in sections.items()
    )
    site_file = tmp / "posthorn.cfg"
    site_file.write_text(text)
    site = Site(load_config(site_file))
    site.databases.upgrade()
    site.lists.create(LIST, owners=["owner@example.org"])
    site.lists.update(LIST, default_nonmember_action="accept")
    addresses = [member(n) for n in range(members)]
    for address in addresses:
        site.lists.subscribe(LIST, address)
    site.close()
    return Stack(tmp, site_file, sink, lmtp_port, addresses, runners=runners)


class PostStream(threading.Thread):
    """Posts ``count`` messages in the background, one at a time, like a steady MTA."""

    def __init__(self, poster: Poster, count: int, pause: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.poster = poster
        self.count = count
        self.pause = pause
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for n in range(self.count):
                self.poster.post(n)
                if self.pause:
                    time.sleep(self.pause)
        except BaseException as error:
            self.error = error
