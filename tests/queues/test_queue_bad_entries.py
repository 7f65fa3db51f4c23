"""Entries that cannot be trusted or loaded end in ``bad``, logged, never dropped."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from posthorn.queues import BadEntry, Switchboard
from posthorn.queues.entry import HEADER

pytestmark = pytest.mark.timeout(30)

RAW = b"Subject: hello\n\nbody\n"
NAME = "01700000000000000000+" + "ab" * 20


class Payload:
    """A pickle that would run a command when loaded by an ordinary unpickler."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def plant(queue: Switchboard, content: bytes, filebase: str = NAME) -> str:
    path = queue.queue_dir / f"{filebase}.pck"
    path.write_bytes(content)
    path.chmod(0o600)
    return filebase


def assert_set_aside(queue: Switchboard, filebase: str, content: bytes | None = None) -> None:
    assert queue.files == []
    assert not (queue.queue_dir / f"{filebase}.bak").exists()
    kept = queue.bad_dir / f"{filebase}.pck"
    assert kept.exists()
    if content is not None:
        assert kept.read_bytes() == content


def test_truncated_entry(incoming: Switchboard, caplog: pytest.LogCaptureFixture) -> None:
    filebase = incoming.enqueue(RAW)
    path = incoming.queue_dir / f"{filebase}.pck"
    content = path.read_bytes()[:-10]
    path.write_bytes(content)
    with pytest.raises(BadEntry, match="truncated"):
        incoming.dequeue(filebase)
    assert_set_aside(incoming, filebase, content)
    assert f"bad entry {filebase}: message" in caplog.text
    assert "truncated" in caplog.text


def test_garbage_entry(incoming: Switchboard, caplog: pytest.LogCaptureFixture) -> None:
    content = os.urandom(4096)
    filebase = plant(incoming, content)
    with pytest.raises(BadEntry, match="not a queue entry") as caught:
        incoming.dequeue(filebase)
    assert caught.value.filebase == filebase
    assert_set_aside(incoming, filebase, content)
    assert "not a queue entry" in caplog.text


def test_garbage_after_a_valid_header(incoming: Switchboard) -> None:
    filebase = plant(incoming, HEADER + os.urandom(4096))
    with pytest.raises(BadEntry, match="metadata"):
        incoming.dequeue(filebase)
    assert_set_aside(incoming, filebase)


def test_unknown_version(incoming: Switchboard) -> None:
    filebase = incoming.enqueue(RAW)
    path = incoming.queue_dir / f"{filebase}.pck"
    path.write_bytes(path.read_bytes().replace(HEADER, b"posthorn-queue 99\n", 1))
    with pytest.raises(BadEntry, match="version '99'"):
        incoming.dequeue(filebase)
    assert_set_aside(incoming, filebase)


def test_trailing_data(incoming: Switchboard) -> None:
    filebase = incoming.enqueue(RAW)
    path = incoming.queue_dir / f"{filebase}.pck"
    path.write_bytes(path.read_bytes() + b"more")
    with pytest.raises(BadEntry, match="trailing data"):
        incoming.dequeue(filebase)
    assert_set_aside(incoming, filebase)


def test_a_pickle_that_imports_is_never_run(incoming: Switchboard, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    content = HEADER + pickle.dumps({"x": Payload(marker)}) + pickle.dumps(RAW)
    filebase = plant(incoming, content)
    with pytest.raises(BadEntry, match="refusing global"):
        incoming.dequeue(filebase)
    assert not marker.exists()
    assert_set_aside(incoming, filebase)


def test_message_must_be_bytes(incoming: Switchboard) -> None:
    filebase = plant(incoming, HEADER + pickle.dumps({}) + pickle.dumps("text"))
    with pytest.raises(BadEntry, match="message is a str"):
        incoming.dequeue(filebase)


def test_writable_by_others_is_refused(
    incoming: Switchboard, caplog: pytest.LogCaptureFixture
) -> None:
    filebase = incoming.enqueue(RAW)
    (incoming.queue_dir / f"{filebase}.pck").chmod(0o666)
    with pytest.raises(BadEntry, match="writable by others"):
        incoming.dequeue_raw(filebase)
    assert_set_aside(incoming, filebase)
    assert "mode 0666" in caplog.text


def test_a_symbolic_link_is_refused(incoming: Switchboard, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"x")
    (incoming.queue_dir / f"{NAME}.pck").symlink_to(elsewhere)
    with pytest.raises(BadEntry, match="symbolic link"):
        incoming.dequeue(NAME)
    assert (incoming.bad_dir / f"{NAME}.pck").is_symlink()


def test_bad_entries_are_never_overwritten(incoming: Switchboard) -> None:
    for content in (b"first", b"second"):
        with pytest.raises(BadEntry):
            incoming.dequeue(plant(incoming, content))
    kept = sorted(p.read_bytes() for p in incoming.bad_dir.iterdir())
    assert kept == [b"first", b"second"]


def test_unloadable_backup_goes_to_bad_on_recovery(incoming: Switchboard) -> None:
    (incoming.queue_dir / f"{NAME}.bak").write_bytes(b"junk")
    (incoming.queue_dir / f"{NAME}.bak").chmod(0o600)
    assert incoming.recover_backup_files() == 0
    assert_set_aside(incoming, NAME, b"junk")
