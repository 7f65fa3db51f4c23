"""A runner asked to stop while it waits for a site lock another host holds.

Two hosts share one PostgreSQL database.  Host "a" (this test process) holds the
delivery record of a post, as while it delivers it; host "b" runs a real master whose
outgoing runner takes an entry for the same post and waits for that record's lock.
Stopping b's master must not wait for host a: the runner gives up the wait at once
(well inside ``stop_timeout``, so it is not SIGKILLed), and its entry stays on the
queue.  Once a lets go and b starts again, the post reaches every member.
"""

from __future__ import annotations

import signal
import subprocess
import time
from email.message import Message
from pathlib import Path

from sqlalchemy import text

from posthorn.config import load_config
from posthorn.delivery.records import delivery_records
from posthorn.queues import Switchboard
from posthorn.site import Site
from tests.processes import STOP_DEADLINE, free_port, start_master, stop
from tests.sites import prepared_site, running_master, wait_for_greeting, write_site_config
from tests.smtpsink import running_sink
from tests.waiting import wait_for

LIST, LIST_ID = "dev@example.org", "dev.example.org"
MID = "<held-elsewhere@example.net>"
MEMBERS = ("a@example.com", "b@example.com")
# Far longer than a prompt stop may take: the old wait lasted until this SIGKILL.
STOP_TIMEOUT = 30.0
PROMPT = 5.0


def post() -> Message:
    msg = Message()
    msg["From"] = "poster@example.com"
    msg["To"] = LIST
    msg["Subject"] = "Waited for"
    msg["Message-ID"] = MID
    msg.set_payload("Hello\n")
    return msg


def lock_waiters(site: Site) -> int:
    with site.databases.engine("message").connect() as connection:
        query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return int(connection.execute(query).scalar_one())


def test_a_runner_waiting_for_another_hosts_lock_stops_at_once(
    tmp_path: Path, postgres_url: str
) -> None:
    database = {"database": {"url": postgres_url}}
    other = Site(load_config(None, overrides={"paths": {"var_dir": str(tmp_path / "a")},
                                              **database}))  # fmt: skip
    with running_sink() as sink:
        (tmp_path / "b").mkdir()
        lmtp_port = free_port()
        path = write_site_config(
            tmp_path / "b", lmtp_port=lmtp_port, smtp_port=sink.port,
            running=("lmtp", "outgoing"),
            extra_sections={**database, "master": {"stop_timeout": f"{STOP_TIMEOUT:g}s"}},
        )  # fmt: skip
        with prepared_site(path) as site:
            site.lists.create(LIST, owners=["owner@example.org"])
            for member in MEMBERS:
                site.lists.subscribe(LIST, member)
        var = tmp_path / "b" / "var"
        with Switchboard(var / "queue" / "outgoing", name="outgoing") as outgoing:
            outgoing.enqueue(post(), {"list_id": LIST_ID})
        record = delivery_records(other).open(LIST_ID, "list", MID)
        try:
            master = start_master(path, tmp_path / "b", subprocess.DEVNULL)
            try:
                wait_for_greeting(master, lmtp_port, var)
                wait_for(lambda: lock_waiters(other) == 1, "host b waiting for the lock", 60)
                asked = time.monotonic()
                master.send_signal(signal.SIGTERM)
                try:
                    master.wait(PROMPT)
                except subprocess.TimeoutExpired:
                    raise AssertionError(f"the master did not stop within {PROMPT}s") from None
                print(f"stopped {time.monotonic() - asked:.2f}s after SIGTERM")
            finally:
                stop(master)
        finally:
            record.close()
        log = (var / "logs" / "outgoing.log").read_text()
        assert "stopped while waiting for the site lock" in log
        assert "left for the next start" in log
        assert sink.counts == {}
        claimed = list((var / "queue" / "outgoing").glob("*.bak"))
        assert len(claimed) == 1, "the entry is not left on its queue"
        # Started again, b finds the entry and sends the post, which a never did.
        with running_master(path, lmtp_port, subprocess.DEVNULL):
            for member in MEMBERS:
                sink.wait(member, "Waited for", STOP_DEADLINE)
        assert {member: sink.counts[member] for member in MEMBERS} == dict.fromkeys(MEMBERS, 1)
    other.close()
