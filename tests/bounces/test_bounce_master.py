"""End to end: bounces in over LMTP, scores in the database, notices at an SMTP sink.

A real master runs the LMTP, bounce, virgin, outgoing and retry runners; the list's
warning interval is one second and the bounce runner sweeps every 200 ms, so the
whole disable → warn → warn → remove sequence takes a few seconds.
"""

from __future__ import annotations

import smtplib
import subprocess
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from posthorn.config import load_config
from posthorn.model.base import utc_now
from posthorn.model.bounces import BounceRecords, BounceState
from posthorn.site import Site
from tests.bounces import samples
from tests.lmtp.conftest import wait_for_greeting
from tests.processes import free_port, start_master, stop
from tests.smtpsink import SMTPSink

pytestmark = pytest.mark.slow

LIST = "dev@example.org"
OWNER = "owner@example.org"
SCANNED = ["dsn@example.com", "qmail@example.com", "postfix@example.com"]
VICTIM = "victim@example.com"
RUNNING = ("lmtp", "bounce", "virgin", "outgoing", "retry")
DEADLINE = 20.0
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def write_config(tmp: Path, lmtp_port: int, smtp_port: int) -> Path:
    defaults = load_config(None, overrides={"paths": {"var_dir": str(tmp / "var")}})
    lines = [f"[paths]\nvar_dir: {tmp / 'var'}",
             f"[mta]\nlmtp_port: {lmtp_port}\nsmtp_port: {smtp_port}",
             "[runner.bounce]\ncheck_interval: 200ms"]  # fmt: skip
    lines += [f"[runner.{name}]\nstart: no" for name in defaults.named("runner")
              if name not in RUNNING]  # fmt: skip
    path = tmp / "posthorn.cfg"
    path.write_text("\n\n".join(lines) + "\n")
    return path


def arrange(path: Path) -> None:
    site = Site(load_config(path))
    site.databases.upgrade()
    site.lists.create(LIST, owners=[OWNER])
    for address in [*SCANNED, VICTIM, "other@example.com"]:
        site.lists.subscribe(LIST, address)
    site.lists.update(LIST, bounce_score_threshold=2, bounce_you_are_disabled_warnings=2,
                      bounce_you_are_disabled_warnings_interval="1s")  # fmt: skip
    # The victim bounced yesterday already: today's bounce takes the score to 2.
    records = BounceRecords(site.databases.session_factory("list"))
    records.save(BounceState("dev.example.org", VICTIM, 1, utc_now() - timedelta(days=1)))
    site.close()


def scores(path: Path) -> dict[str, int]:
    site = Site(load_config(path))
    try:
        records = BounceRecords(site.databases.session_factory("list"))
        return {state.email: state.score for state in records.for_list("dev.example.org")}
    finally:
        site.close()


def member_of(path: Path, address: str) -> str | None:
    site = Site(load_config(path))
    try:
        member = site.lists.roster(LIST).get_member(address)
        return None if member is None else member.delivery_status
    finally:
        site.close()


def subjects_to(sink: SMTPSink, address: str) -> list[str]:
    with sink.lock:
        received = list(sink.received)
    found = []
    for _, rcpts, content in received:
        if address in rcpts:
            head = content.split(b"\r\n\r\n")[0].split(b"\n\n")[0].decode()
            found += [line[9:].strip() for line in head.splitlines() if line.startswith("Subject:")]
    return found


def test_bounces_score_disable_warn_and_remove(tmp_path: Path) -> None:
    sink = SMTPSink(free_port())
    sink.start()
    lmtp_port = free_port()
    path = write_config(tmp_path, lmtp_port, sink.port)
    arrange(path)
    process = start_master(path, tmp_path, subprocess.DEVNULL)
    try:
        wait_for_greeting(process, lmtp_port, tmp_path / "var")
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
            for address, build in zip(
                SCANNED, [samples.dsn, samples.qmail, samples.postfix], strict=True
            ):
                lmtp.sendmail("", ["dev-bounces@example.org"], build(address))
            # VERP: the envelope names the victim; the body names someone else.
            verp = "dev-bounces+victim=example.com@example.org"
            lmtp.sendmail("", [verp], samples.dsn("other@example.com", to=verp))
            lmtp.sendmail("", ["dev-bounces@example.org"], samples.unrecognizable())
        expected = {address: 1 for address in SCANNED} | {VICTIM: 2}
        wait_for(lambda: scores(path) == expected or None, f"scores {expected}")
        assert member_of(path, VICTIM) in ("by_bounces", None)
        assert member_of(path, "other@example.com") == "enabled"
        # Two warnings a second apart, then the removal a second later.
        wait_for(lambda: member_of(path, VICTIM) is None or None, "the victim's removal")
        wait_for(lambda: len(subjects_to(sink, OWNER)) >= 3 or None, "the owners' notices")
        warning = "Your subscription to Dev has been disabled"
        assert subjects_to(sink, VICTIM) == [warning, warning]
        assert sorted(subjects_to(sink, OWNER)) == [
            "Uncaught bounce notification for Dev",
            "victim@example.com unsubscribed from Dev (bounces)",
            "victim@example.com's subscription to Dev disabled (bounces)",
        ]
        assert all(member_of(path, address) == "enabled" for address in SCANNED)
    finally:
        stop(process)
        sink.stop()
