"""Runner processes on the amqp backend: killed mid-entry, competing, shunting.

A real master runs the sample Recorder on queue ``alpha``, kept on the RabbitMQ broker
at 127.0.0.1:5672 under a prefix of the test's own (``tests/broker.py``).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from posthorn.queues.amqp_store import AmqpStore
from tests.broker import URL, broker_prefix, consumers, size
from tests.runners.harness import PosthornSite, sample
from tests.waiting import wait_for

RECORDER = {"class": sample("Recorder"), "sleep_time": "30s"}


def message(subject: str) -> bytes:
    return f"From: ann@example.org\nSubject: {subject}\n\nHello.\n".encode()


@pytest.fixture
def prefix() -> Iterator[str]:
    with broker_prefix() as prefix:
        yield prefix


@pytest.fixture
def store(prefix: str) -> Iterator[AmqpStore]:
    store = AmqpStore(URL, prefix=prefix)
    try:
        yield store
    finally:
        store.close()


def on_amqp(prefix: str) -> dict[str, dict[str, str]]:
    return {"queues": {"backend": "amqp", "amqp_url": URL, "amqp_prefix": prefix}}


@pytest.mark.slow
def test_a_runner_killed_mid_entry_gets_it_again_and_it_is_processed_once(
    site: PosthornSite, prefix: str, store: AmqpStore
) -> None:
    site.configure({"alpha": RECORDER}, extra=on_amqp(prefix))
    site.start()
    site.wait_running(1)
    release = site.root / "release"
    store.open("alpha").enqueue(message("in hand"), {"hold": str(release)})
    wait_for(lambda: site.records("alpha", "began"), "the entry begun")
    # The process holding it is the last one started: a first one may already have
    # exited for a broker that refused it at start (541, restarted as a TEMPFAIL).
    holder = site.records("alpha", "started")[-1]["pid"]
    os.kill(holder, signal.SIGKILL)
    # The master starts a new process; the broker hands it the entry again.
    wait_for(lambda: len(site.records("alpha", "began")) == 2, "the entry begun again")
    (again,) = site.wait_running(1)
    assert again["pid"] != holder
    assert size(prefix, "alpha") == 0  # in hand, not waiting
    release.touch()
    wait_for(lambda: site.records("alpha", "processed"), "the entry processed")
    wait_for(lambda: size(prefix, "alpha") == 0 and size(prefix, "shunt") == 0, "queues empty")
    assert [r["subject"] for r in site.records("alpha", "processed")] == ["in hand"]


@pytest.mark.slow
def test_two_processes_compete_for_the_entries_each_processed_once(
    site: PosthornSite, prefix: str, store: AmqpStore
) -> None:
    site.configure(
        {"alpha": {**RECORDER, "instances": "2", "prefetch": "1"}}, extra=on_amqp(prefix)
    )
    site.start()
    site.wait_running(2)
    wait_for(lambda: consumers(prefix, "alpha") == 2, "both processes consuming")
    queue = store.open("alpha")
    subjects = [f"post {n}" for n in range(20)]
    for subject in subjects:
        queue.enqueue(message(subject), {"pause": 0.05})
    wait_for(lambda: len(site.records("alpha", "processed")) >= 20, "20 entries processed")
    records = site.records("alpha", "processed")
    assert Counter(r["subject"] for r in records) == Counter(subjects)
    per_process = Counter(r["pid"] for r in records)
    assert len(per_process) == 2, per_process
    assert min(per_process.values()) >= 3, per_process


@pytest.mark.slow
def test_a_failing_entry_is_shunted_and_the_cli_sends_it_back(
    site: PosthornSite, prefix: str, store: AmqpStore
) -> None:
    site.configure({"alpha": RECORDER}, extra=on_amqp(prefix))
    site.start()
    site.wait_running(1)
    failing = store.open("alpha").enqueue(message("please fail"))
    wait_for(lambda: size(prefix, "shunt") == 1, "the failing entry shunted")
    # No runner from here on: what the commands do stays put for the asserts.
    site.kill_everything()
    result = site.cli("queues", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["queue"]: row for row in json.loads(result.stdout)}
    assert rows["shunt"]["queued"] == 1 and rows["alpha"]["queued"] == 0
    listed = site.cli("queue", "list", "shunt")
    assert failing in listed.stdout
    shown = site.cli("qfile", "-m", failing)
    assert "ValueError: asked to fail" in shown.stdout
    moved = site.cli("unshunt")
    assert moved.returncode == 0, moved.stderr
    assert f"{failing} -> alpha" in moved.stdout
    assert (size(prefix, "shunt"), size(prefix, "alpha")) == (0, 1)


@pytest.mark.slow
def test_retry_later_waits_on_the_broker_and_comes_back_when_due(
    site: PosthornSite, prefix: str, store: AmqpStore
) -> None:
    site.configure(
        {"alpha": RECORDER, "retry": {"start": "yes", "sleep_time": "30s"}},
        extra=on_amqp(prefix),
    )
    site.start()
    site.wait_running(2)
    sent = time.time()
    store.open("alpha").enqueue(message("retry once"))
    # Within 20 s: a runner that waited for its 30 s sleep_time would miss it.
    wait_for(lambda: site.records("alpha", "processed"), "the entry back and processed", 20)
    # RetryLater(delay=5): not before its time, and with no runner polling for it.
    assert time.time() - sent >= 4
    assert [r["subject"] for r in site.records("alpha", "processed")] == ["retry once"]
    assert "back to alpha" in site.log("retry")


@pytest.mark.slow
def test_a_broker_out_of_reach_is_waited_out_not_counted_as_crashes(
    site: PosthornSite, prefix: str
) -> None:
    queues = on_amqp(prefix)
    queues["queues"]["amqp_url"] = "amqp://guest:guest@127.0.0.1:1/"
    site.configure({"alpha": {**RECORDER, "max_restarts": "1"}}, extra=queues)
    site.start()

    def restarted() -> bool:
        rows = site.runners("alpha")
        return bool(rows) and rows[0]["restarts"] >= 3

    wait_for(restarted, "the runner started again three times")
    (row,) = site.runners("alpha")
    assert row["state"] != "given-up"
    assert "queues unavailable: cannot reach the broker" in site.log("alpha")
