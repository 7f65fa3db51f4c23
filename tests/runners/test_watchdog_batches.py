"""The watchdog times the entry a runner is working on, not its batch: with
``batch_size`` above 1, a batch of quick entries that takes longer than
``entry_timeout`` in all is left alone, and an entry that hangs is still caught."""

from __future__ import annotations

import pytest

from posthorn.queues import Switchboard
from tests.runners.harness import PosthornSite, sample
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

BATCHED = {
    "class": sample("Recorder"),
    "batch_size": "4",
    "entry_timeout": "1s",
    "sleep_time": "100ms",
}


def test_a_batch_longer_than_the_timeout_is_not_taken_for_a_hang(site: PosthornSite) -> None:
    site.configure({"alpha": BATCHED})
    queue = Switchboard(site.var / "queue" / "alpha")
    # Queued before the runner starts, so that its first listing takes them as a batch.
    for number in range(4):
        queue.enqueue(f"Subject: m{number}\n\nbody\n".encode(), {"pause": 0.5})
    site.start()
    wait_for(lambda: len(site.records("alpha", "processed")) == 4, "the batch processed", 30)
    assert len({record["pid"] for record in site.records("alpha", "processed")}) == 1
    assert "over entry_timeout" not in site.log("master")
    (row,) = site.runners("alpha")
    assert row["restarts"] == 0


def test_an_entry_that_hangs_within_a_batch_is_still_caught(site: PosthornSite) -> None:
    site.configure({"alpha": BATCHED})
    queue = Switchboard(site.var / "queue" / "alpha")
    queue.enqueue(b"Subject: quick\n\nbody\n")
    # The file it waits for never comes: the runner holds it until the watchdog acts.
    queue.enqueue(b"Subject: stuck\n\nbody\n", {"hold": str(site.root / "never")})
    site.start()
    wait_for(lambda: "over entry_timeout" in site.log("master"), "the watchdog's kill", 30)
