"""The task runner in a real master: it evicts an expired pending request and sends a
periodic digest of a post that arrived over LMTP, with no cron and no size trigger.
In process: a periodic digest after ``posthorn digests --send`` sends nothing twice,
and a reminder names the messages held longer than a day, on lists that ask.
"""

from __future__ import annotations

import smtplib
import subprocess
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from posthorn.digests import mailbox
from posthorn.model.base import utc_now
from posthorn.model.held import HeldMessageRow
from posthorn.model.pending import PendingRow
from posthorn.periodic import PeriodicJobs
from posthorn.site import Site
from tests.sites import master_with_sink, open_site, prepared_site, run_cli, write_site_config
from tests.smtpsink import SMTPSink
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

LIST = "dev@example.org"
POSTER = "poster@example.com"
DIGESTER = "mime@example.com"
RUNNING = ("lmtp", "incoming", "pipeline", "virgin", "outgoing", "retry", "task")
TASK = {"runner.task": {"evict_interval": "1s", "digests_interval": "2s"}}


def pendings(site: Site) -> int:
    with site.databases.session_factory("list")() as session:
        return int(session.scalar(select(func.count()).select_from(PendingRow)) or 0)


def arrange(site: Site) -> None:
    site.lists.create(LIST, owners=["owner@example.org"])
    site.lists.subscribe(LIST, POSTER)
    site.lists.subscribe(LIST, DIGESTER, delivery_mode="mime_digests")
    site.lists.update(LIST, digest_size_threshold=1000.0)
    site.lists.add_pending("subscription", {"email": "late@example.com"},
                           timedelta(seconds=-1), list_id="dev.example.org")  # fmt: skip
    site.lists.add_pending("subscription", {"email": "soon@example.com"},
                           timedelta(days=3), list_id="dev.example.org")  # fmt: skip
    assert pendings(site) == 2


def digests_to(sink: SMTPSink, address: str) -> list[Message]:
    return [m for rcpts, m in sink.messages() if address in rcpts and "Digest" in str(m["Subject"])]


def test_task_runner_evicts_and_sends_a_periodic_digest(tmp_path: Path) -> None:
    with master_with_sink(tmp_path, running=RUNNING, arrange=arrange, extra_sections=TASK,
                          output=subprocess.DEVNULL) as (path, lmtp_port, sink):  # fmt: skip
        with open_site(path) as site:
            wait_for(lambda: pendings(site) == 1, "the expired pending evicted")
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
            post = (
                f"From: {POSTER}\nTo: {LIST}\nSubject: Hello\nMessage-ID: <p1@example.com>\n\nHi\n"
            )
            lmtp.sendmail(POSTER, [LIST], post.encode())
        sink.wait(POSTER, "Hello")
        wait_for(lambda: digests_to(sink, DIGESTER), "a periodic digest")
        (digest,) = digests_to(sink, DIGESTER)
        assert "Hello" in digest.as_string()
    log = (tmp_path / "var" / "logs" / "task.log").read_text()
    assert "evicted 1 expired pending request(s)" in log


def test_periodic_digests_after_cron_send_nothing_twice(tmp_path: Path) -> None:
    path = write_site_config(tmp_path, lmtp_port=1, running=())
    with prepared_site(path) as site:
        arrange(site)
        data_dir = site.config.path("data_dir")
    post = b"From poster@example.com Thu Jan  1 00:00:00 2026\nFrom: poster@example.com\n"
    post += b"Subject: Gathered\nMessage-ID: <g1@example.com>\n\nText\n\n"
    mailbox.append(mailbox.digest_mailbox(data_dir, "dev.example.org"), post)
    code, output = run_cli(path, "digests", "--send")
    assert code == 0 and "1 digest(s) queued" in output
    sent: list[tuple[Message, dict[str, Any]]] = []
    with open_site(path) as site:
        mailbox.append(mailbox.digest_mailbox(data_dir, "dev.example.org"), post)
        assert PeriodicJobs(site, lambda m, d: sent.append((m, d))).digests() == (
            "sent 0 periodic digest issue(s)"
        )
    assert sent == []


def test_reminder_names_old_held_messages_when_the_list_asks(tmp_path: Path) -> None:
    path = write_site_config(tmp_path, lmtp_port=1, running=())
    sent: list[tuple[Message, dict[str, Any]]] = []
    with prepared_site(path) as site:
        arrange(site)
        msg = Message()
        msg["Message-ID"] = "<held@example.com>"
        site.messages.hold("dev.example.org", msg, "too big", POSTER, "Old one", {})
        jobs = PeriodicJobs(site, lambda m, d: sent.append((m, d)))
        jobs.reminder_age = 0.0
        assert "of 1 list(s)" in jobs.reminders()
        site.lists.update(LIST, admin_immed_notify=False)
        assert "of 0 list(s)" in jobs.reminders()
    ((notice, data),) = sent
    assert data["recipients"] == ["owner@example.org"]
    assert "Old one" in notice.get_payload(decode=True).decode()  # type: ignore[union-attr]


def test_prune_discards_messages_held_past_max_days_to_hold(tmp_path: Path) -> None:
    path = write_site_config(tmp_path, lmtp_port=1, running=())
    with prepared_site(path) as site:
        arrange(site)
        ids = []
        for n in (1, 2):
            msg = Message()
            msg["Message-ID"] = f"<held{n}@example.com>"
            ids.append(site.messages.hold("dev.example.org", msg, "why", POSTER, f"H{n}", {}))
        with site.databases.session_factory("message")() as session:
            row = session.get(HeldMessageRow, ids[0])
            assert row is not None
            row.held_on = utc_now() - timedelta(days=3)
        jobs = PeriodicJobs(site, lambda m, d: None)
        assert "0 held message(s)" in jobs.prune()  # max_days_to_hold 0: kept
        site.lists.update(LIST, max_days_to_hold=2)
        assert "1 held message(s)" in jobs.prune()
        assert [h.request_id for h in site.messages.held_for_list("dev.example.org")] == [ids[1]]
