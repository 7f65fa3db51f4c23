"""The per-post delivery record: done marks outlive the entry, two readers take turns."""

from __future__ import annotations

import os
import time
from pathlib import Path

from posthorn.delivery.progress import DeliveryRecord, audience_of, prune
from tests.delivery.turns import second_process_waits

LIST_ID = "dev.example.org"
MID = "<post-1@example.net>"


def test_done_parked_and_told_survive_the_record(tmp_path: Path) -> None:
    with DeliveryRecord(tmp_path, LIST_ID, "list", MID) as record:
        assert not record.done and not record.parked and not record.told
        record.record(["a@example.com", "b@example.com"])
        record.park(["c@example.com"])
        record.mark_told()
    again = DeliveryRecord(tmp_path, LIST_ID, "list", MID)
    try:
        assert again.done == {"a@example.com", "b@example.com"}
        assert again.parked == {"c@example.com"}
        assert again.told
    finally:
        again.close()


def test_list_audience_and_message_id_each_name_their_own_record(tmp_path: Path) -> None:
    with DeliveryRecord(tmp_path, LIST_ID, "list", MID) as record:
        record.record(["a@example.com"])
    for other in (
        ("other.example.org", "list", MID),
        (LIST_ID, "to:owners", MID),
        (LIST_ID, "list", "<post-2@example.net>"),
    ):
        with DeliveryRecord(tmp_path, *other) as record:
            assert record.done == set(), other
    # The Message-ID is compared as its hash: brackets and spaces do not matter.
    with DeliveryRecord(tmp_path, LIST_ID, "list", " post-1@example.net ") as record:
        assert record.done == {"a@example.com"}


def test_a_post_without_message_id_keeps_no_file(tmp_path: Path) -> None:
    with DeliveryRecord(tmp_path, LIST_ID, "list", "") as record:
        record.record(["a@example.com"])
        assert record.path is None
    assert not list(tmp_path.iterdir())


def test_the_audience_is_the_roster_or_the_explicit_recipients() -> None:
    assert audience_of({}) == "list"
    owners = audience_of({"recipients": ["B@example.org", "a@example.org"]})
    assert owners.startswith("to:")
    assert owners == audience_of({"recipients": ["a@example.org", "b@example.org"]})
    # A retry entry names fewer recipients but keeps the audience of its post.
    assert audience_of({"recipients": ["a@example.org"], "audience": "list"}) == "list"


def blocked_on_a_lock(pid: int) -> bool:
    lines = Path("/proc/locks").read_text().splitlines()
    return any(" -> " in line and f" {pid} " in line for line in lines)


def test_a_second_process_waits_until_the_first_is_done(tmp_path: Path) -> None:
    opening = (
        "from pathlib import Path\n"
        "from posthorn.delivery.progress import DeliveryRecord\n"
        f"with DeliveryRecord(Path({str(tmp_path)!r}), {LIST_ID!r}, 'list', {MID!r}) as r:"
    )
    record = DeliveryRecord(tmp_path, LIST_ID, "list", MID)
    # The kernel lists a process blocked on a lock with "->" in /proc/locks.
    second_process_waits(record, opening, lambda other: blocked_on_a_lock(other.pid))


def test_old_records_are_pruned(tmp_path: Path) -> None:
    with DeliveryRecord(tmp_path, LIST_ID, "list", MID) as old:
        old.record(["a@example.com"])
    with DeliveryRecord(tmp_path, LIST_ID, "list", "<new@example.net>") as new:
        new.record(["a@example.com"])
    assert old.path is not None and new.path is not None
    eleven_days = time.time() - 11 * 86400
    os.utime(old.path, (eleven_days, eleven_days))
    assert prune(tmp_path, 10 * 86400) == 1
    assert not old.path.exists() and new.path.exists()
    assert prune(tmp_path / "missing", 10 * 86400) == 0


def test_a_closed_record_leaves_a_spare_that_the_next_new_record_becomes(tmp_path: Path) -> None:
    with DeliveryRecord(tmp_path, LIST_ID, "list", MID) as record:
        record.record(["a@example.com"])
    spare = tmp_path / ".spare-0"
    inode = spare.stat().st_ino
    assert spare.stat().st_size == 0
    with DeliveryRecord(tmp_path, LIST_ID, "list", "<post-2@example.net>") as second:
        assert second.done == set()
        second.record(["b@example.com"])
        assert second.path is not None
        assert second.path.stat().st_ino == inode
    # The spare became the record and held only its marks; a new spare waits.
    with DeliveryRecord(tmp_path, LIST_ID, "list", "<post-2@example.net>") as again:
        assert again.done == {"b@example.com"}
    assert spare.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".done")) == [
        ".spare-0"
    ]


def test_a_spare_never_replaces_a_record_already_there(tmp_path: Path) -> None:
    with DeliveryRecord(tmp_path, LIST_ID, "list", MID) as record:
        record.record(["a@example.com"])
    assert (tmp_path / ".spare-0").exists()
    with DeliveryRecord(tmp_path, LIST_ID, "list", MID) as again:
        assert again.done == {"a@example.com"}
    # Still one spare, untouched, and one record.
    assert (tmp_path / ".spare-0").stat().st_size == 0
    assert len(list(tmp_path.glob("*.done"))) == 1


def test_spares_are_not_records_to_prune(tmp_path: Path) -> None:
    with DeliveryRecord(tmp_path, LIST_ID, "list", MID) as record:
        record.record(["a@example.com"])
    assert prune(tmp_path, age=0, now=time.time() + 10) == 1
    assert [p.name for p in tmp_path.iterdir()] == [".spare-0"]
