"""The queue runner: each entry once, failures shunted, SIGTERM finishes the entry in hand.

The first tests run real runner processes under a real master; the last ones drive a
runner in this process with ``drain``, for the outcomes that need no process at all.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time

import pytest

from posthorn.queues import Switchboard
from posthorn.queues.entry import read_metadata
from posthorn.queues.naming import slice_of
from posthorn.site import Site
from tests.runners.harness import PosthornSite, alive, sample
from tests.runners.sample_runners import Recorder
from tests.waiting import drain, wait_for

RECORDER = {"class": sample("Recorder")}


def message(subject: str) -> bytes:
    return f"From: ann@example.org\nSubject: {subject}\n\nHello.\n".encode()


@pytest.mark.slow
def test_every_entry_is_processed_once_by_the_slice_that_owns_it(site: PosthornSite) -> None:
    # A long sleep_time: entries enqueued after the start must be noticed at once.
    site.configure({"alpha": {**RECORDER, "instances": "4", "sleep_time": "30s"}})
    queue = Switchboard(site.var / "queue" / "alpha")
    owner = {f"early {n}": slice_of(queue.enqueue(message(f"early {n}")), 4) for n in range(20)}
    site.start()
    site.wait_running(4)
    owner |= {f"late {n}": slice_of(queue.enqueue(message(f"late {n}")), 4) for n in range(20)}

    def all_done() -> bool:
        return len(site.records("alpha", "processed")) >= 40 and not queue.entries()

    # Within 20 s: a runner that waited for its 30 s sleep_time would miss it.
    wait_for(all_done, "40 entries processed", 20)
    records = site.records("alpha", "processed")
    assert sorted(r["subject"] for r in records) == sorted(owner)
    assert all(r["slice"] == owner[r["subject"]] for r in records)


@pytest.mark.slow
def test_a_failing_entry_is_shunted_with_its_traceback(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    site.start()
    (row,) = site.wait_running(1)
    queue = Switchboard(site.var / "queue" / "alpha")
    failing = queue.enqueue(message("please fail"))
    queue.enqueue(message("fine"))

    wait_for(lambda: site.records("alpha", "processed"), "the good entry processed")
    shunt = site.var / "queue" / "shunt"
    wait_for(lambda: (shunt / f"{failing}.pck").exists(), "the failing entry in shunt")
    with open(shunt / f"{failing}.pck", "rb") as fp:
        msgdata = read_metadata(fp)
    assert msgdata["whichq"] == "alpha"
    assert "ValueError: asked to fail: please fail" in msgdata["shunt_reason"]
    log = site.log("alpha")
    assert "Traceback (most recent call last)" in log
    assert "ValueError: asked to fail: please fail" in log
    assert [r["subject"] for r in site.records("alpha", "processed")] == ["fine"]
    assert site.runners("alpha")[0]["pid"] == row["pid"] and alive(row["pid"])


@pytest.mark.slow
def test_sigterm_finishes_the_entry_in_hand(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    site.start()
    (row,) = site.wait_running(1)
    queue = Switchboard(site.var / "queue" / "alpha")
    release = site.root / "release"
    queue.enqueue(message("in hand"), {"hold": str(release)})
    wait_for(lambda: site.records("alpha", "began"), "the entry in hand")

    waiting = queue.enqueue(message("next in line"))
    os.kill(row["pid"], signal.SIGTERM)
    release.touch()
    wait_for(lambda: not alive(row["pid"]), "the runner to exit")
    # The entry in hand was finished; the next one was left for a later runner.
    assert [r["subject"] for r in site.records("alpha", "processed")] == ["in hand"]
    assert [(e.filebase, e.state) for e in queue.entries()] == [(waiting, "queued")]
    wait_for(lambda: "exited with 0 (OK); not restarted" in site.log("master"), "the exit logged")
    report = json.loads(site.cli("status", "--json").stdout)
    (alpha,) = report["runners"]
    assert (alpha["state"], alpha["queue_depth"]) == ("stopped", 1)


def test_drain_processes_and_finishes_each_entry(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    runner = Recorder(Site(site.config), "alpha")
    for n in range(3):
        runner.switchboard.enqueue(message(f"m{n}"))
    assert drain(runner) == 3
    assert [r["subject"] for r in site.records("alpha", "processed")] == ["m0", "m1", "m2"]
    assert runner.switchboard.entries() == []


def test_retry_later_moves_the_entry_to_the_retry_queue(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    runner = Recorder(Site(site.config), "alpha")
    runner.switchboard.enqueue(message("please retry"), {"note": "kept"})
    before = time.time()
    assert drain(runner) == 1
    retry = Switchboard(site.var / "queue" / "retry")
    (filebase,) = retry.get_files()
    _, msgdata = retry.dequeue(filebase)
    assert msgdata["retry_queue"] == "alpha"
    assert msgdata["retries"] == 1
    assert msgdata["retry_after"] >= before + 5
    assert msgdata["note"] == "kept"
    assert runner.switchboard.entries() == []


def test_retry_later_without_a_delay_backs_off(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    runner = Recorder(Site(site.config), "alpha")
    # Its third retry: the pause has doubled twice from one minute.
    runner.switchboard.enqueue(message("please back off"), {"retries": 2})
    before = time.time()
    assert drain(runner) == 1
    retry = Switchboard(site.var / "queue" / "retry")
    (filebase,) = retry.get_files()
    _, msgdata = retry.dequeue(filebase)
    assert msgdata["retries"] == 3
    assert before + 240 <= msgdata["retry_after"] <= time.time() + 240


def test_an_unreachable_database_sends_the_entry_to_retry(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    # A real database server that is not there: nothing listens on this port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/posthorn?connect_timeout=2"
    text = site.config_file.read_text("utf-8")
    site.config_file.write_text(text + f"[database]\nurl: {url}\n", encoding="utf-8")
    runner = Recorder(Site(site.config), "alpha")
    filebase = runner.switchboard.enqueue(message("hello"), {"list_id": "dev.example.org"})
    before = time.time()
    assert drain(runner) == 1
    # Not shunted: the entry is fine, the database is away; it comes back soon.
    assert not (site.var / "queue" / "shunt" / f"{filebase}.pck").exists()
    retry = Switchboard(site.var / "queue" / "retry")
    (retried,) = retry.get_files()
    _, msgdata = retry.dequeue(retried)
    assert msgdata["retry_queue"] == "alpha"
    assert msgdata["retry_reason"] == "database unavailable: OperationalError"
    assert before + 2 <= msgdata["retry_after"] <= time.time() + 2
    assert runner.switchboard.entries() == []


def test_an_entry_for_a_vanished_list_is_shunted(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    text = site.config_file.read_text("utf-8")
    components = f"[components]\nlist_manager: {sample('NoLists')}\n"
    site.config_file.write_text(text + components, encoding="utf-8")
    runner = Recorder(Site(site.config), "alpha")
    filebase = runner.switchboard.enqueue(message("hello"), {"list_id": "gone.example.org"})
    assert drain(runner) == 1
    assert site.records("alpha", "processed") == []
    with open(site.var / "queue" / "shunt" / f"{filebase}.pck", "rb") as fp:
        assert read_metadata(fp)["shunt_reason"] == "no such list: gone.example.org"


def test_a_batch_syncs_its_outputs_once_then_finishes_its_entries(
    site: PosthornSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.configure({"alpha": {**RECORDER, "batch_size": 4}})
    runner = Recorder(Site(site.config), "alpha")
    for subject in ("retry a", "retry b", "fail c", "retry d", "retry e"):
        runner.switchboard.enqueue(message(subject))
    events: list[str] = []
    monkeypatch.setattr(runner.queue("retry"), "sync", lambda: events.append("sync"))
    finish = runner.switchboard.finish

    def recorded_finish(
        filebase: str, *, preserve: bool = False, reason: str | None = None
    ) -> None:
        events.append("finish")
        finish(filebase, preserve=preserve, reason=reason)

    monkeypatch.setattr(runner.switchboard, "finish", recorded_finish)
    assert drain(runner) == 5
    # The retry queue's directory is synced once per batch, before any entry of it is
    # finished (the failing one is shunted, which finishes it too).
    assert events == ["sync", *["finish"] * 4, "sync", "finish"]
    assert runner.switchboard.entries() == []
    assert len(Switchboard(site.var / "queue" / "retry").get_files()) == 4
