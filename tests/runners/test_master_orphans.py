"""A new master never runs beside the runners of a killed one; a vanished entry is no crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from posthorn.queues import Switchboard
from posthorn.runners.orphans import earlier_processes
from posthorn.runstate import MasterFiles, ProcessId, write_state
from tests.runners.harness import PosthornSite, alive, sample
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

RECORDER = {"class": sample("Recorder")}


def test_runners_found_by_process_group_are_ended_after_stop_timeout(
    site: PosthornSite,
) -> None:
    site.configure({"alpha": RECORDER}, master={"stop_timeout": "2s"})
    first = site.start()
    (old,) = site.wait_running(1, "alpha")
    hold = site.root / "release"
    Switchboard(site.var / "queue" / "alpha").enqueue(b"Subject: held\n\nx\n", {"hold": str(hold)})
    wait_for(lambda: site.records("alpha", "began"), "the entry in hand")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    # The state file is lost too: only the process group can tell who the runners were.
    (site.var / "run" / "master.json").unlink()
    assert alive(old["pid"])

    site.start()
    wait_for(lambda: "earlier master's processes are gone" in site.log("master"), "the kill")
    assert "did not exit within 2s; killing them" in site.log("master")
    assert not alive(old["pid"])
    (new,) = site.wait_running(1, "alpha")
    assert new["pid"] != old["pid"]
    hold.touch()
    wait_for(lambda: site.records("alpha", "processed"), "the entry redone")
    log = site.log("master")
    assert f"processes of an earlier master still run (pids {old['pid']})" in log
    # The old runner never finished, the new one redid the entry: exactly once.
    assert [r["pid"] for r in site.records("alpha", "processed")] == [new["pid"]]


def test_an_entry_gone_before_it_is_finished_is_logged_not_a_crash(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    site.start()
    (row,) = site.wait_running(1, "alpha")
    queue = Switchboard(site.var / "queue" / "alpha")
    hold = site.root / "release"
    queue.enqueue(b"Subject: first\n\nx\n", {"hold": str(hold)})
    wait_for(lambda: site.records("alpha", "began"), "the entry in hand")
    (claimed,) = (site.var / "queue" / "alpha").glob("*.bak")
    os.unlink(claimed)
    hold.touch()
    queue.enqueue(b"Subject: second\n\nx\n")
    wait_for(lambda: len(site.records("alpha", "processed")) == 2, "both entries")
    assert f"{claimed.stem}: gone before it was finished; going on" in site.log("alpha")
    (still,) = site.runners("alpha")
    assert still["pid"] == row["pid"] and still["restarts"] == 0


def test_a_reused_pid_is_never_taken_for_an_earlier_runner(tmp_path: Path) -> None:
    """Only the very process recorded counts: same pid and start time, ours, Posthorn."""
    files = MasterFiles(tmp_path / "master.lck", tmp_path / "master.pid", tmp_path / "master.json")
    command = [sys.executable, "-c", "import time; time.sleep(30)"]
    runner = subprocess.Popen([*command, "posthorn-like"])
    stranger = subprocess.Popen(command)
    try:
        start = ProcessId.of(runner.pid).start
        assert start is not None
        rows = [
            {"pid": runner.pid, "start": start},
            {"pid": stranger.pid, "start": ProcessId.of(stranger.pid).start},  # not Posthorn
        ]
        write_state(files.state, {"runners": rows})
        assert [p.pid for p in earlier_processes(files)] == [runner.pid]
        # The same pid with another start time is another process: left alone.
        rows[0]["start"] = start - 1
        write_state(files.state, {"runners": rows})
        assert earlier_processes(files) == []
    finally:
        for process in (runner, stranger):
            process.kill()
            process.wait()
