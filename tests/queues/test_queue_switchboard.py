"""The Switchboard in one process: entries, metadata, claims, shunt, listing."""

from __future__ import annotations

import enum
import fcntl
import os
import stat
from email.message import EmailMessage, Message
from pathlib import Path

import pytest

from posthorn.queues import (
    ATTEMPTS_KEY,
    REASON_KEY,
    RECEIVED_KEY,
    VERSION_KEY,
    WHICHQ_KEY,
    EntryGone,
    Switchboard,
    spares,
)
from posthorn.queues.spares import PREFIX

pytestmark = pytest.mark.timeout(30)

RAW = (
    b"From: Anne <anne@example.org>\r\n"
    b"To: list@example.org\r\n"
    b"Subject: a subject long enough that a generator would like to fold it somewhere "
    b"past column seventy-eight\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Caf\xc3\xa9\r\n"
    b"From the start of a line\r\n"
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_bytes_travel_unchanged_and_come_back_parsed(incoming: Switchboard) -> None:
    filebase = incoming.enqueue(RAW, {"listid": "test.example.org"}, tocount=2)
    assert incoming.files == [filebase]
    data, msgdata = incoming.dequeue_raw(filebase)
    assert data == RAW
    assert msgdata["listid"] == "test.example.org"
    assert msgdata["tocount"] == 2
    assert msgdata[WHICHQ_KEY] == "incoming"
    assert msgdata[VERSION_KEY] == 1
    assert isinstance(msgdata[RECEIVED_KEY], float)
    incoming.finish(filebase)
    assert incoming.files == []
    # The finished entry's file waits, emptied of nothing but its name, for the next.
    assert [p.name for p in incoming.queue_dir.iterdir() if not p.name.startswith(PREFIX)] == []


def test_a_parsed_message_is_stored_as_bytes(incoming: Switchboard) -> None:
    msg = EmailMessage()
    msg["Subject"] = "caf\u00e9"
    msg.set_content("body\n")
    filebase = incoming.enqueue(msg)
    parsed, _ = incoming.dequeue(filebase)
    assert isinstance(parsed, Message)
    assert str(parsed["Subject"]) == "=?utf-8?q?caf=C3=A9?="
    assert parsed.get_payload() == "body\n"


def test_a_message_survives_many_hops_unchanged(queue_root: Path) -> None:
    queues = [Switchboard(queue_root / name) for name in ("one", "two", "three")]
    msg: Message | bytes = RAW
    first = b""
    for queue in queues:
        filebase = queue.enqueue(msg)
        msg, _ = queue.dequeue(filebase)
        queue.finish(filebase)
        data = msg.as_bytes(policy=msg.policy.clone(max_line_length=0))
        # The first generation normalises line ends; after that nothing changes.
        first = first or data
        assert data == first
    assert first == RAW.replace(b"\r\n", b"\n")


def test_queue_keys_belong_to_the_queue(incoming: Switchboard) -> None:
    received = 1234.5
    msgdata = {WHICHQ_KEY: "pipeline", ATTEMPTS_KEY: 2, REASON_KEY: "x", RECEIVED_KEY: received}
    filebase = incoming.enqueue(RAW, msgdata)
    _, stored = incoming.dequeue_raw(filebase)
    assert stored[WHICHQ_KEY] == "incoming"
    assert stored[RECEIVED_KEY] == received
    assert ATTEMPTS_KEY not in stored
    assert REASON_KEY not in stored
    # The caller's dict is left alone.
    assert msgdata[WHICHQ_KEY] == "pipeline"


class Colour(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    "bad",
    [
        {"x": object()},
        {"x": {1, 2}},
        {"x": [1, [Colour.RED]]},
        {"x": bytearray(b"ab")},
        {("a", frozenset()): 1},
        {"x": Path("/")},
    ],
)
def test_metadata_must_be_built_in_types(incoming: Switchboard, bad: dict[object, object]) -> None:
    with pytest.raises(TypeError, match="queue metadata takes only"):
        incoming.enqueue(RAW, bad)  # type: ignore[arg-type]
    assert list(incoming.queue_dir.iterdir()) == []


def test_metadata_may_not_contain_itself(incoming: Switchboard) -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(TypeError, match="contains itself"):
        incoming.enqueue(RAW, {"loop": loop})


def test_directories_and_files_are_private(queue_root: Path) -> None:
    queue = Switchboard(queue_root / "incoming")
    filebase = queue.enqueue(RAW)
    assert mode(queue_root) == mode(queue.queue_dir) == 0o700
    assert mode(queue.queue_dir / f"{filebase}.pck") == 0o600
    queue.dequeue(filebase)
    queue.finish(filebase, preserve=True, reason="look at this")
    assert mode(queue.shunt_dir) == 0o700
    assert mode(queue.shunt_dir / f"{filebase}.pck") == 0o600


def test_names_sort_by_arrival(incoming: Switchboard) -> None:
    filebases = [incoming.enqueue(RAW) for _ in range(5)]
    assert incoming.files == filebases == sorted(filebases)
    assert len(set(filebases)) == 5


def test_group_commit(incoming: Switchboard) -> None:
    batch = incoming.enqueue_many([(RAW, {"n": n}) for n in range(3)])
    single = incoming.enqueue(RAW, n=3, durable=False)
    incoming.sync()
    assert incoming.files == [*batch, single]
    assert [incoming.dequeue_raw(f)[1]["n"] for f in incoming.files] == [0, 1, 2, 3]
    assert not [p for p in incoming.queue_dir.iterdir() if p.suffix == ".tmp"]


def test_a_bad_batch_stores_nothing(incoming: Switchboard) -> None:
    with pytest.raises(TypeError):
        incoming.enqueue_many([(RAW, {}), (RAW, {"x": object()})])
    assert incoming.files == []


def test_count_must_be_a_power_of_two(queue_root: Path) -> None:
    for count in (0, 3, 6, -2):
        with pytest.raises(ValueError, match="power of two"):
            Switchboard(queue_root / "incoming", count=count)
    with pytest.raises(ValueError, match="slice"):
        Switchboard(queue_root / "incoming", slice=4, count=4)


def test_gone_entries(incoming: Switchboard) -> None:
    filebase = incoming.enqueue(RAW)
    incoming.dequeue(filebase)
    with pytest.raises(EntryGone):
        incoming.dequeue(filebase)
    incoming.finish(filebase)
    with pytest.raises(EntryGone):
        incoming.finish(filebase)


def test_preserve_shunts_with_the_reason(incoming: Switchboard, queue_root: Path) -> None:
    filebase = incoming.enqueue(RAW, {"listid": "x"})
    incoming.dequeue(filebase)
    incoming.finish(filebase, preserve=True, reason="handler crashed")
    assert incoming.entries() == []
    shunt = Switchboard(queue_root / "shunt")
    data, msgdata = shunt.dequeue_raw(filebase)
    assert data == RAW
    assert msgdata[WHICHQ_KEY] == "incoming"
    assert msgdata[REASON_KEY] == "handler crashed"
    assert msgdata["listid"] == "x"


def test_listing(incoming: Switchboard) -> None:
    assert (incoming.count(), incoming.oldest_age(), incoming.entries()) == (0, None, [])
    first = incoming.enqueue(RAW)
    second = incoming.enqueue(RAW)
    incoming.dequeue(first)
    assert incoming.count() == 1
    age = incoming.oldest_age()
    assert age is not None and 0 <= age < 60
    entries = incoming.entries()
    assert [(e.filebase, e.state) for e in entries] == [(first, "claimed"), (second, "queued")]
    assert all(e.size > len(RAW) and e.mtime > 0 for e in entries)


def test_counts_cover_every_slice(queue_root: Path) -> None:
    whole = Switchboard(queue_root / "incoming")
    half = Switchboard(queue_root / "incoming", slice=0, count=2)
    for _ in range(20):
        whole.enqueue(RAW)
    assert half.count() == 20
    assert 0 < len(half.files) < 20


def test_recovery_removes_dead_writers_temporary_files_at_once(incoming: Switchboard) -> None:
    """An unlocked .tmp is a dead writer's, whatever its age; a locked one is a live one's."""
    dead = incoming.queue_dir / "00000000000000000001+{}.pck.tmp".format("0" * 40)
    live = incoming.queue_dir / "00000000000000000002+{}.pck.tmp".format("0" * 40)
    dead.write_bytes(b"partial")
    live.write_bytes(b"partial")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        incoming.recover_backup_files()
        assert not dead.exists()
        assert live.exists()
    finally:
        os.close(fd)


@pytest.mark.parametrize("reused", [False, True], ids=["new file", "spare file"])
def test_a_tidy_just_before_the_rename_leaves_a_live_writers_entry(
    incoming: Switchboard, monkeypatch: pytest.MonkeyPatch, reused: bool
) -> None:
    """A reader starting while an entry is written tidies at the worst moment: the rename."""
    if reused:
        monkeypatch.setattr(spares, "EMPTY_PAUSE", 0.0)
        finished = incoming.enqueue(RAW)
        incoming.dequeue_raw(finished)
        incoming.finish(finished)
        # This one takes the spare ahead; the next is written into it.
        incoming.enqueue(RAW)
    rename = os.rename

    def tidy_then_rename(source: str, target: str) -> None:
        if str(source).endswith(".tmp") and str(target).endswith(".pck"):
            assert incoming.tidy() == 0
        rename(source, target)

    monkeypatch.setattr(os, "rename", tidy_then_rename)
    filebase = incoming.enqueue(RAW, {"n": 1})
    monkeypatch.undo()
    assert incoming.dequeue_raw(filebase)[1]["n"] == 1
