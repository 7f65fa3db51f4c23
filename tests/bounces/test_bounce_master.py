"""End to end: bounces in over LMTP, scores in the database, notices at an SMTP sink.

A real master runs the LMTP, bounce, virgin, outgoing and retry runners; the list's
warning interval is one second and the bounce runner sweeps every 200 ms, so the
whole disable → warn → warn → remove sequence takes a few seconds.
"""

from __future__ import annotations

import smtplib
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from posthorn.model.base import utc_now
from posthorn.model.bounces import BounceRecords, BounceState
from posthorn.site import Site
from tests.bounces import samples
from tests.sites import master_with_sink, open_site
from tests.smtpsink import SMTPSink
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

LIST = "dev@example.org"
OWNER = "owner@example.org"
SCANNED = ["dsn@example.com", "qmail@example.com", "postfix@example.com"]
VICTIM = "victim@example.com"
RUNNING = ("lmtp", "bounce", "virgin", "outgoing", "retry")
DEADLINE = 20.0


def arrange(site: Site) -> None:
    site.lists.create(LIST, owners=[OWNER])
    for address in [*SCANNED, VICTIM, "other@example.com"]:
        site.lists.subscribe(LIST, address)
    site.lists.update(LIST, bounce_score_threshold=2, bounce_you_are_disabled_warnings=2,
                      bounce_you_are_disabled_warnings_interval="1s")  # fmt: skip
    # The victim bounced yesterday already: today's bounce takes the score to 2.
    records = BounceRecords(site.databases.session_factory("list"))
    records.save(BounceState("dev.example.org", VICTIM, 1, utc_now() - timedelta(days=1)))


def scores(path: Path) -> dict[str, int]:
    with open_site(path) as site:
        records = BounceRecords(site.databases.session_factory("list"))
        return {state.email: state.score for state in records.for_list("dev.example.org")}


def member_of(path: Path, address: str) -> str | None:
    with open_site(path) as site:
        member = site.lists.roster(LIST).get_member(address)
        return None if member is None else member.delivery_status


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
    fast = {"runner.bounce": {"check_interval": "200ms"}}
    with master_with_sink(tmp_path, running=RUNNING, arrange=arrange, extra_sections=fast,
                          output=subprocess.DEVNULL) as (path, lmtp_port, sink):  # fmt: skip
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
        wait_for(lambda: scores(path) == expected or None, f"scores {expected}", DEADLINE)
        # The disable follows the score in the same sweep, a moment later.
        wait_for(
            lambda: member_of(path, VICTIM) in ("by_bounces", None) or None,
            "the victim's disable",
            DEADLINE,
        )
        assert member_of(path, "other@example.com") == "enabled"
        # Two warnings a second apart, then the removal a second later.
        wait_for(lambda: member_of(path, VICTIM) is None or None, "the victim's removal", DEADLINE)
        wait_for(
            lambda: len(subjects_to(sink, OWNER)) >= 3 or None, "the owners' notices", DEADLINE
        )
        warning = "Your subscription to Dev has been disabled"
        assert subjects_to(sink, VICTIM) == [warning, warning]
        assert sorted(subjects_to(sink, OWNER)) == [
            "Uncaught bounce notification for Dev",
            "victim@example.com unsubscribed from Dev (bounces)",
            "victim@example.com's subscription to Dev disabled (bounces)",
        ]
        assert all(member_of(path, address) == "enabled" for address in SCANNED)
