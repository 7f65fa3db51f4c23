"""max_idle: a queue runner idle that long after handling entries is started afresh,
not counted as a crash; one that has handled nothing keeps running.  So is the REST
runner after requests, the master keeping its port open in between."""

from __future__ import annotations

import base64
import http.client

import pytest

from posthorn.queues import Switchboard
from tests.processes import free_port
from tests.runners.harness import PosthornSite, sample
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

RECORDER = {"class": sample("Recorder"), "max_idle": "300ms", "sleep_time": "100ms"}


def test_an_idle_runner_is_recycled_after_work_only(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER, "beta": RECORDER})
    site.start()
    rows = {row["name"]: row["pid"] for row in site.wait_running(2)}
    Switchboard(site.var / "queue" / "alpha").enqueue(b"Subject: one\n\nbody\n")
    wait_for(lambda: site.records("alpha", "processed"), "the entry processed")

    def fresh_alpha() -> bool:
        (row,) = site.runners("alpha")
        return row["state"] == "running" and row["pid"] not in (None, rows["alpha"])

    wait_for(fresh_alpha, "a fresh alpha process")
    assert "idle for 0.3s after 1 entries; exiting to be recycled" in site.log("alpha")
    assert "exited with 79 (RECYCLE); recycled" in site.log("master")
    (alpha,) = site.runners("alpha")
    assert alpha["restarts"] == 0
    # Beta has handled nothing: it has nothing to give back, and keeps its process.
    (beta,) = site.runners("beta")
    assert beta["pid"] == rows["beta"]
    # The fresh alpha takes the next entry, and is recycled in its turn.
    Switchboard(site.var / "queue" / "alpha").enqueue(b"Subject: two\n\nbody\n")
    wait_for(lambda: len(site.records("alpha", "processed")) == 2, "the second entry")
    pids = [record["pid"] for record in site.records("alpha", "processed")]
    assert pids[0] != pids[1]


def _get_versions(port: int) -> int:
    auth = base64.b64encode(b"restadmin:restpass").decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/3.1/system/versions", headers={"Authorization": f"Basic {auth}"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_an_idle_rest_runner_is_recycled_while_the_master_keeps_its_port(
    site: PosthornSite,
) -> None:
    port = free_port()
    site.configure(
        {"rest": {"start": "yes", "max_idle": "300ms", "sleep_time": "100ms"}},
        extra={"webservice": {"port": str(port)}},
    )
    site.start()
    (first,) = site.wait_running(1, "rest")
    assert _get_versions(port) == 200

    def fresh_rest() -> bool:
        (row,) = site.runners("rest")
        return row["state"] == "running" and row["pid"] not in (None, first["pid"])

    wait_for(fresh_rest, "a fresh rest process")
    assert "idle for 0.3s after 1 requests; exiting to be recycled" in site.log("rest")
    (rest,) = site.runners("rest")
    assert rest["restarts"] == 0
    # The port stayed open throughout; the fresh runner answers on it.
    assert _get_versions(port) == 200
