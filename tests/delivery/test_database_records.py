"""Delivery records in the database: what one host sent, another host sees.

The hosts are sites with var dirs of their own on one PostgreSQL database.  The last
test runs a real master with an outgoing runner on each, hands the same post to both,
and counts the copies at one SMTP sink: a post redelivered to the second host is not
sent again to anyone the first one served.
"""

from __future__ import annotations

import subprocess
import threading
from datetime import timedelta
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import text

from posthorn.config import load_config
from posthorn.delivery.ledger import LedgerRecords
from posthorn.delivery.records import delivery_records
from posthorn.model.base import utc_now
from posthorn.model.delivery_records import DatabaseRecords
from posthorn.queues import Switchboard
from posthorn.site import Site
from tests.processes import free_port
from tests.sites import prepared_site, running_master, write_site_config
from tests.smtpsink import running_sink
from tests.waiting import wait_for

LIST = "dev@example.org"
LIST_ID = "dev.example.org"
MID = "<post-1@example.net>"
MEMBERS = ("a@example.com", "b@example.com", "c@example.com")


def records(site: Site) -> DatabaseRecords:
    found = delivery_records(site)
    assert isinstance(found, DatabaseRecords)
    return found


def test_marks_written_on_one_host_are_read_on_another(hosts: list[Site]) -> None:
    first, second = (records(site) for site in hosts)
    with first.open(LIST_ID, "list", MID) as record:
        record.record(["a@example.com", "b@example.com"])
        record.record(["a@example.com"])  # a redone batch writes it again
        record.park(["c@example.com"])
        record.mark_told()
    with second.open(LIST_ID, "list", " post-1@example.net ") as again:
        assert again.done == {"a@example.com", "b@example.com"}
        assert again.parked == {"c@example.com"}
        assert again.told
    with second.open(LIST_ID, "to:owners", MID) as other:
        assert other.done == set() and not other.told


def rows(site: Site) -> int:
    with site.databases.engine("message").connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM delivery_records")).scalar() or 0)


def test_done_marks_are_written_in_groups_and_on_close(
    hosts: list[Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = records(hosts[0])
    monkeypatch.setattr("posthorn.model.delivery_records.WRITE_ROWS", 3)
    with store.open(LIST_ID, "list", MID) as record:
        record.record(["a@example.com"])
        record.record(["b@example.com"])
        assert rows(hosts[1]) == 0  # a personalized post: not a commit per member
        record.record(["c@example.com"])
        assert rows(hosts[1]) == 3
        record.record(["d@example.com"])
        # Parking (before a notice) writes what waits first.
        record.park(["e@example.com"])
        assert rows(hosts[1]) == 5
        record.record(["f@example.com"])
    assert rows(hosts[1]) == 6
    monkeypatch.setattr("posthorn.model.delivery_records.WRITE_AFTER", 0.0)
    with store.open(LIST_ID, "list", "<post-2@example.net>") as record:
        record.record(["a@example.com"])
        assert rows(hosts[1]) == 7  # the first has waited long enough


def advisory_waiters(site: Site) -> int:
    with site.databases.engine("message").connect() as connection:
        query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return int(connection.execute(query).scalar() or 0)


def test_a_second_host_waits_until_the_first_is_done(hosts: list[Site]) -> None:
    first, second = (records(site) for site in hosts)
    seen: list[set[str]] = []

    def open_on_the_second() -> None:
        with second.open(LIST_ID, "list", MID) as record:
            seen.append(set(record.done))

    with first.open(LIST_ID, "list", MID) as record:
        other = threading.Thread(target=open_on_the_second)
        other.start()
        wait_for(lambda: advisory_waiters(hosts[1]) == 1, "the second host waiting for the lock")
        record.record(["a@example.com"])
    other.join(30)
    assert seen == [{"a@example.com"}]


def test_old_records_are_pruned_whole(hosts: list[Site]) -> None:
    store = records(hosts[0])
    with store.open(LIST_ID, "list", MID) as old:
        old.record(["a@example.com"])
    with store.open(LIST_ID, "list", "<new@example.net>") as new:
        new.record(["a@example.com"])
    assert store.prune(10 * 86400) == 0
    later = utc_now() + timedelta(days=11)
    with store.open(LIST_ID, "list", "<new@example.net>") as new:
        new.record(["b@example.com"])
    # Eleven days on, the first record's last mark is old; the second was just written.
    assert store.prune(10 * 86400, now=later) == 2
    assert store.prune(10 * 86400) == 0


def test_a_post_without_message_id_keeps_no_row(hosts: list[Site]) -> None:
    store = records(hosts[0])
    with store.open(LIST_ID, "list", "") as record:
        record.record(["a@example.com"])
        # Nothing kept in memory either: done is what was served before opening.
        assert record.done == set()
    assert rows(hosts[0]) == 0


def test_a_site_on_sqlite_keeps_its_records_in_its_own_ledger(site: Site) -> None:
    found = delivery_records(site)
    assert isinstance(found, LedgerRecords)
    assert found.directory == site.config.path("data_dir") / "outgoing"


def post() -> Message:
    msg = Message()
    msg["From"] = "poster@example.com"
    msg["To"] = LIST
    msg["Subject"] = "Across hosts"
    msg["Message-ID"] = MID
    msg.set_payload("Hello\n")
    return msg


@pytest.mark.slow
def test_a_post_redelivered_to_another_host_is_not_sent_again(
    tmp_path: Path, postgres_url: str
) -> None:
    with running_sink() as sink:
        sites = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            path = write_site_config(
                tmp_path / name, lmtp_port=free_port(), smtp_port=sink.port,
                running=("lmtp", "outgoing"), extra_sections={"database": {"url": postgres_url}},
            )  # fmt: skip
            with prepared_site(path) as site:
                if name == "a":
                    site.lists.create(LIST, owners=["owner@example.org"])
                    for member in MEMBERS:
                        site.lists.subscribe(LIST, member)
            sites.append(path)
        for path in sites:
            queue = path.parent / "var" / "queue" / "outgoing"
            with Switchboard(queue, name="outgoing") as outgoing:
                outgoing.enqueue(post(), {"list_id": LIST_ID})
        ports = [load_config(p)["mta"].get_int("lmtp_port") for p in sites]
        logs = [path.parent / "var" / "logs" / "outgoing.log" for path in sites]

        def one_found_its_recipients_served() -> bool:
            return any(log.exists() and "not sent again" in log.read_text() for log in logs)

        with (
            running_master(sites[0], ports[0], subprocess.DEVNULL),
            running_master(sites[1], ports[1], subprocess.DEVNULL),
        ):
            for member in MEMBERS:
                sink.wait(member, "Across hosts")
            # Both hosts have the post; whichever comes second sends it to no one.
            wait_for(one_found_its_recipients_served, "the second entry finding it served")
        assert {member: sink.counts[member] for member in MEMBERS} == dict.fromkeys(MEMBERS, 1)
