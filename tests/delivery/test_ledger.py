"""The ledger of a site on SQLite: marks outlive the entry and a kill, entries take turns."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from posthorn.delivery.ledger import LEDGER, LOCKS, SPILL_AFTER, SPILL_SUFFIX, LedgerRecords
from posthorn.delivery.progress import DeliveryRecord
from tests.delivery.turns import second_process_waits
from tests.processes import REPO, in_child
from tests.waiting import wait_for

LIST_ID = "dev.example.org"
MID = "<post-1@example.net>"


def test_done_parked_and_told_survive_the_record(tmp_path: Path) -> None:
    records = LedgerRecords(tmp_path)
    with records.open(LIST_ID, "list", MID) as record:
        assert not record.done and not record.parked and not record.told
        record.record(["a@example.com", "b@example.com"])
        record.record(["c@example.com", ""])
        record.park(["d@example.com"])
        record.mark_told()
        record.sync()
        # Done is what earlier entries served: this one's marks are written, not kept.
        assert record.done == set()
    # Another process's view: a fresh ledger object reads the same rows.
    with LedgerRecords(tmp_path).open(LIST_ID, "list", MID) as again:
        assert again.done == {"a@example.com", "b@example.com", "c@example.com"}
        assert again.parked == {"d@example.com"}
        assert again.told


def test_list_audience_and_message_id_each_name_their_own_record(tmp_path: Path) -> None:
    records = LedgerRecords(tmp_path)
    with records.open(LIST_ID, "list", MID) as record:
        record.record(["a@example.com"])
    for other in (
        ("other.example.org", "list", MID),
        (LIST_ID, "to:owners", MID),
        (LIST_ID, "list", "<post-2@example.net>"),
    ):
        with records.open(*other) as record:
            assert record.done == set(), other
    # The Message-ID is compared as its hash: brackets and spaces do not matter.
    with records.open(LIST_ID, "list", " post-1@example.net ") as record:
        assert record.done == {"a@example.com"}


def test_a_post_without_message_id_keeps_nothing(tmp_path: Path) -> None:
    with LedgerRecords(tmp_path).open(LIST_ID, "list", "") as record:
        record.record(["a@example.com"])
        record.sync()
    assert not list(tmp_path.iterdir())


def test_posts_make_no_file_each(tmp_path: Path) -> None:
    records = LedgerRecords(tmp_path)
    for n in range(20):
        with records.open(LIST_ID, "list", f"<post-{n}@example.net>") as record:
            record.record(["a@example.com"])
    names = {p.name for p in tmp_path.iterdir()}
    assert names <= {LEDGER, LEDGER + "-wal", LEDGER + "-shm", LOCKS}, names


def test_marks_survive_the_writer_being_killed(tmp_path: Path) -> None:
    code = (
        "import os, signal\n"
        "from pathlib import Path\n"
        "from posthorn.delivery.ledger import LedgerRecords\n"
        f"record = LedgerRecords(Path({str(tmp_path)!r})).open({LIST_ID!r}, 'list', {MID!r})\n"
        "record.record(['a@example.com'])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=60)
    assert killed.returncode == -9
    with LedgerRecords(tmp_path).open(LIST_ID, "list", MID) as record:
        assert record.done == {"a@example.com"}


def waiting_on(lock_file: Path) -> bool:
    """Whether the kernel lists a lock request on ``lock_file`` waiting ("->")."""
    inode = f":{lock_file.stat().st_ino} "
    lines = Path("/proc/locks").read_text().splitlines()
    return any(" -> " in line and inode in line for line in lines)


def test_a_second_process_waits_until_the_first_is_done(tmp_path: Path) -> None:
    opening = (
        "from pathlib import Path\n"
        "from posthorn.delivery.ledger import LedgerRecords\n"
        f"with LedgerRecords(Path({str(tmp_path)!r})).open({LIST_ID!r}, 'list', {MID!r}) as r:"
    )
    record = LedgerRecords(tmp_path).open(LIST_ID, "list", MID)
    second_process_waits(record, opening, lambda _: waiting_on(tmp_path / LOCKS))


def test_two_entries_of_one_process_take_turns_and_other_posts_do_not_wait(
    tmp_path: Path,
) -> None:
    records = LedgerRecords(tmp_path)
    first = records.open(LIST_ID, "list", MID)
    seen: list[set[str]] = []
    second = threading.Thread(target=lambda: seen.append(set(records.open(
        LIST_ID, "list", MID).done)))  # fmt: skip
    try:
        # Another post's record opens while the first is held.
        with records.open(LIST_ID, "list", "<post-2@example.net>") as other:
            assert other.done == set()
        second.start()
        wait_for(lambda: waiting_on(tmp_path / LOCKS), "the second entry waiting", 30)
        assert not seen
        first.record(["a@example.com"])
    finally:
        first.close()
    second.join(30)
    assert seen == [{"a@example.com"}]


def test_old_records_are_pruned_whole(tmp_path: Path) -> None:
    records = LedgerRecords(tmp_path)
    with records.open(LIST_ID, "list", MID) as old:
        old.record(["a@example.com"])
    with records.open(LIST_ID, "list", "<retried@example.net>") as retried:
        retried.record(["a@example.com"])
        retried.record(["b@example.com"])
    # Eleven days ago: every mark of the first post, the first of the second.
    with contextlib.closing(sqlite3.connect(tmp_path / LEDGER)) as ledger, ledger:
        ledger.execute("UPDATE marks SET written = written - 11 * 86400 WHERE rowid IN (1, 2)")
    assert records.prune(10 * 86400) == 1
    with records.open(LIST_ID, "list", MID) as old:
        assert old.done == set()
    with records.open(LIST_ID, "list", "<retried@example.net>") as retried:
        assert retried.done == {"a@example.com", "b@example.com"}
    assert records.prune(10 * 86400, now=time.time() + 11 * 86400) == 1
    assert LedgerRecords(tmp_path / "missing").prune(10 * 86400) == 0
    assert not (tmp_path / "missing").exists()


def test_record_files_of_an_earlier_version_are_read_and_pruned(tmp_path: Path) -> None:
    with DeliveryRecord(tmp_path, LIST_ID, "list", MID) as earlier:
        earlier.record(["a@example.com"])
        earlier.park(["b@example.com"])
        earlier.mark_told()
    records = LedgerRecords(tmp_path)
    with records.open(LIST_ID, "list", MID) as record:
        assert record.done == {"a@example.com"}
        assert record.parked == {"b@example.com"} and record.told
        record.record(["c@example.com"])
    with records.open(LIST_ID, "list", MID) as record:
        assert record.done == {"a@example.com", "c@example.com"}
    assert earlier.path is not None
    eleven_days = time.time() - 11 * 86400
    os.utime(earlier.path, (eleven_days, eleven_days))
    assert records.prune(10 * 86400) == 1
    assert not earlier.path.exists()


def test_a_record_written_often_goes_on_in_a_file_of_its_own(tmp_path: Path) -> None:
    records = LedgerRecords(tmp_path)
    members = [f"m{n}@example.com" for n in range(SPILL_AFTER + 5)]
    with records.open(LIST_ID, "list", MID) as record:
        for address in members:  # one batch per member (personalized, VERP)
            record.record([address])
        record.park(["parked@example.com"])
    (spilled,) = tmp_path.glob("*" + SPILL_SUFFIX)
    assert len(spilled.read_text().split()) == 5
    with records.open(LIST_ID, "list", MID) as again:
        assert again.done == set(members)
        assert again.parked == {"parked@example.com"}
        again.record(["late@example.com"])
    with records.open(LIST_ID, "list", MID) as again:
        assert again.done == {*members, "late@example.com"}
    # The rows are old, the file not: the record stays whole, until the file is old too.
    with contextlib.closing(sqlite3.connect(tmp_path / LEDGER)) as ledger, ledger:
        ledger.execute("UPDATE marks SET written = written - 11 * 86400")
    assert records.prune(10 * 86400) == 0
    with records.open(LIST_ID, "list", MID) as again:
        assert len(again.done) == len(members) + 1
    eleven_days = time.time() - 11 * 86400
    os.utime(spilled, (eleven_days, eleven_days))
    assert records.prune(10 * 86400) == 2  # the rows, and the file
    with records.open(LIST_ID, "list", MID) as again:
        assert again.done == set() and not again.parked


def test_a_forked_process_keeps_to_a_connection_and_descriptors_of_its_own(
    tmp_path: Path,
) -> None:
    records = LedgerRecords(tmp_path)
    # The parent's connection is open and a descriptor of the lock file kept free.
    with records.open(LIST_ID, "list", MID) as record:
        record.record(["a@example.com"])
    other = "<post-2@example.net>"

    def record_another() -> str:
        with records.open(LIST_ID, "list", other) as record:
            record.record(["b@example.com"])
        records.close()
        return ""

    in_child(record_another)
    # The child closed only what it opened: the parent's connection still serves.
    with records.open(LIST_ID, "list", other) as record:
        assert record.done == {"b@example.com"}
    with records.open(LIST_ID, "list", MID) as record:
        assert record.done == {"a@example.com"}
    records.close()
