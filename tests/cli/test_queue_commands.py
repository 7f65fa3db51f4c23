"""``posthorn queues``, ``unshunt`` and ``qfile`` against real queue directories."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from posthorn.queues import Switchboard
from tests.sites import bare_site
from tests.sites import run_cli as run

MESSAGE = b"From: a@example.org\nTo: dev@example.org\nSubject: hello\n\nbody\n"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return bare_site(tmp_path, monkeypatch)


def test_queues_counts_each_queue(site: Path) -> None:
    root = site.parent / "var" / "queue"
    with Switchboard(root / "incoming") as incoming:
        first = incoming.enqueue(MESSAGE, {"list_id": "dev.example.org"})
        incoming.enqueue(MESSAGE, {"list_id": "dev.example.org"})
        incoming.dequeue(first)
    with Switchboard(root / "outgoing"):
        pass
    code, output = run(site, "queues", "--json")
    assert code == 0
    rows = {row["queue"]: row for row in json.loads(output)}
    assert rows["incoming"]["queued"] == 1
    assert rows["incoming"]["claimed"] == 1
    assert rows["incoming"]["oldest"] >= 0
    assert rows["outgoing"]["queued"] == 0
    code, output = run(site, "queues")
    assert code == 0
    assert output.splitlines()[0].split() == ["QUEUE", "QUEUED", "CLAIMED", "OLDEST"]


def test_unshunt_returns_entries_to_their_queue(site: Path) -> None:
    root = site.parent / "var" / "queue"
    with Switchboard(root / "pipeline") as pipeline:
        filebase = pipeline.enqueue(MESSAGE, {"list_id": "dev.example.org"})
        pipeline.dequeue(filebase)
        pipeline.finish(filebase, preserve=True, reason="handler failed")
        assert pipeline.count() == 0
    code, output = run(site, "unshunt")
    assert code == 0, output
    assert f"{filebase} -> pipeline" in output
    with Switchboard(root / "pipeline") as pipeline:
        assert pipeline.files == [filebase]
        msg, msgdata = pipeline.dequeue(filebase)
    assert msg["Subject"] == "hello"
    assert msgdata["list_id"] == "dev.example.org"


def test_qfile_shows_metadata_and_message(site: Path) -> None:
    root = site.parent / "var" / "queue"
    with Switchboard(root / "incoming") as incoming:
        filebase = incoming.enqueue(MESSAGE, {"list_id": "dev.example.org"})
    path = root / "incoming" / f"{filebase}.pck"
    code, output = run(site, "qfile", str(path))
    assert code == 0
    assert "'list_id': 'dev.example.org'" in output
    assert "Subject: hello" in output
    code, output = run(site, "qfile", "-m", str(path))
    assert "Subject: hello" not in output
    assert "'list_id'" in output


def test_qfile_reports_a_corrupt_file(site: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pck"
    bogus.write_bytes(b"posthorn-queue 1\n\x80\x05garbage")
    os.chmod(bogus, 0o600)
    code, output = run(site, "qfile", str(bogus))
    assert code == 1
    assert "cannot read" in output
