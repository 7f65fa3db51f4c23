"""max_idle for the LMTP runner: the master listens on the port, so an idle runner
exits to be recycled and the next one serves whoever connects, the open session never
cut and no message lost."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lmtp.conftest import LIMITS, LISTS, RUNNER, Master
from tests.processes import free_port
from tests.runners.harness import alive
from tests.sites import prepared_site, running_master, write_site_config
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

MAX_IDLE = 0.3
MESSAGE = b"From: a@example.com\r\nSubject: idle\r\nMessage-ID: <idle@example.com>\r\n\r\nbody\r\n"


@pytest.fixture
def idle_master(tmp_path: Path) -> Iterator[Master]:
    port = free_port()
    runner = {**RUNNER, "max_idle": f"{MAX_IDLE * 1000:g}ms", "sleep_time": "100ms"}
    extra = {"mta": LIMITS, "runner.lmtp": runner, "master": {"restart_pause": "100ms"}}
    site_file = write_site_config(tmp_path, lmtp_port=port, running=("lmtp",), extra_sections=extra)
    with prepared_site(site_file) as site:
        for name in LISTS:
            site.lists.create(name)
    with running_master(site_file, port) as process:
        yield Master(process, port, tmp_path / "var")


def lmtp_row(master: Master) -> dict[str, Any]:
    state = json.loads((master.var_dir / "run" / "master.json").read_text("utf-8"))
    (row,) = [row for row in state["runners"] if row["name"] == "lmtp"]
    return row


def running_pid(master: Master) -> int | None:
    row = lmtp_row(master)
    return row["pid"] if row["state"] == "running" else None


def test_an_idle_runner_is_recycled_and_the_next_serves_on_the_same_port(
    idle_master: Master,
) -> None:
    # Waiting for the greeting opened a session: the runner has served, and goes idle.
    first = wait_for(lambda: running_pid(idle_master), "a running lmtp process")
    wait_for(lambda: not alive(first), "the idle lmtp process gone")
    assert "exiting to be recycled" in idle_master.log("lmtp")
    # Connected after it exited: served by the next runner, from the backlog or not.
    with idle_master.client() as client:
        client.sendmail("a@example.com", ["dev@example.org"], MESSAGE)
    assert "exited with 79 (RECYCLE); recycled" in idle_master.log("master")
    assert lmtp_row(idle_master)["restarts"] == 0
    assert running_pid(idle_master) not in (None, first)
    ((data, msgdata),) = idle_master.take("incoming")
    assert b"Subject: idle" in data
    assert msgdata["list_id"] == "dev.example.org"


def test_an_open_session_is_not_cut_by_max_idle(idle_master: Master) -> None:
    first = wait_for(lambda: running_pid(idle_master), "a running lmtp process")
    wait_for(lambda: not alive(first), "the idle lmtp process gone")
    with idle_master.client() as client:
        pid = wait_for(lambda: running_pid(idle_master), "the next lmtp process")
        # Silent for several max_idle, within idle_timeout: the runner waits for us.
        time.sleep(MAX_IDLE * 5)
        assert alive(pid)
        client.sendmail("a@example.com", ["dev@example.org"], MESSAGE)
        time.sleep(MAX_IDLE * 3)
        assert alive(pid)
        client.sendmail("a@example.com", ["my-list@example.org"], MESSAGE)
    assert len(idle_master.take("incoming")) == 2
    # Once the session is over, the runner goes in its turn.
    wait_for(lambda: not alive(pid), "the lmtp process gone after the session")
    assert lmtp_row(idle_master)["restarts"] == 0
