"""The master with real processes: start, status, restarts, signals, stop, locks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.runners.harness import POSTHORN, PosthornSite, alive, sample
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

RECORDER = {"class": sample("Recorder")}
IDLE = {"class": sample("Idle")}


def test_start_status_and_stop(site: PosthornSite) -> None:
    site.configure(
        {
            "alpha": {**RECORDER, "instances": "4"},
            "beta": {**RECORDER, "start": "no"},
            "gamma": IDLE,
        }
    )
    master = site.start()
    rows = site.wait_running(5)
    for folder in ("queue", "logs", "locks", "data", "archives", "run"):
        assert (site.var / folder).is_dir(), folder
    assert sorted((r["name"], r["slice"], r["count"]) for r in rows) == [
        ("alpha", 0, 4),
        ("alpha", 1, 4),
        ("alpha", 2, 4),
        ("alpha", 3, 4),
        ("gamma", 0, 1),
    ]
    # Each alpha process itself was told its own slice.
    started = wait_for(lambda: len(site.records("alpha", "started")) == 4, "4 alpha starts")
    assert started
    records = site.records("alpha", "started")
    assert sorted(r["slice"] for r in records) == [0, 1, 2, 3]
    assert {r["pid"] for r in records} == {r["pid"] for r in rows if r["name"] == "alpha"}
    # The master's heap came frozen, out of the children's collections (shared, not copied).
    assert all(r["frozen"] > 0 for r in records)
    assert not site.records("beta", "started")

    status = site.cli("status")
    assert status.returncode == 0, status.stderr
    assert f"master: pid {master.pid}" in status.stdout
    for number in range(4):
        assert any(
            line.split()[:2] == ["alpha", f"{number}/4"] for line in status.stdout.splitlines()
        )
    assert "beta" not in status.stdout
    report = json.loads(site.cli("status", "--json").stdout)
    assert report["master"]["pid"] == master.pid
    depths = {(r["name"], r["slice"]): r["queue_depth"] for r in report["runners"]}
    assert depths[("alpha", 0)] == 0
    assert depths[("gamma", 0)] is None

    stopped = site.cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    assert master.wait(timeout=10) == 0
    assert not [row["pid"] for row in rows if alive(row["pid"])]
    assert not (site.var / "locks" / "master.lck").exists()
    assert not (site.var / "run" / "master.pid").exists()
    assert "service stopping" in site.log("gamma")
    assert site.cli("status").returncode == 1


def test_killed_runner_is_restarted(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER, "gamma": IDLE})
    site.start()
    (old,) = [row for row in site.wait_running(2) if row["name"] == "alpha"]
    os.kill(old["pid"], signal.SIGKILL)

    def restarted() -> dict[str, object] | None:
        (row,) = site.runners("alpha")
        fresh = row["state"] == "running" and row["pid"] not in (None, old["pid"])
        return row if fresh else None

    row = wait_for(restarted, "alpha restarted")
    assert row["restarts"] == 1
    assert row["last_exit"] == "killed by SIGKILL"
    assert "alpha 0/1" in site.log("master") and "killed by SIGKILL; restarting in" in site.log(
        "master"
    )
    report = json.loads(site.cli("status", "--json").stdout)
    (alpha,) = [r for r in report["runners"] if r["name"] == "alpha"]
    assert alpha["alive"] and alpha["restarts"] == 1


def test_a_state_file_that_cannot_be_written_does_not_stop_the_master(
    site: PosthornSite,
) -> None:
    site.configure({"alpha": RECORDER})
    master = site.start()
    (old,) = site.wait_running(1, "alpha")
    # A directory where the state file goes: every later write of it fails.
    state = site.var / "run" / "master.json"
    state.unlink()
    state.mkdir()
    os.kill(old["pid"], signal.SIGKILL)

    def restarted() -> list[dict[str, object]] | None:
        fresh = [r for r in site.records("alpha", "started") if r["pid"] != old["pid"]]
        return fresh or None

    wait_for(restarted, "alpha restarted")
    assert master.poll() is None
    assert f"cannot write {state}" in site.log("master")


def test_crash_loop_gives_up_and_the_rest_keeps_running(site: PosthornSite) -> None:
    site.configure(
        {"crasher": {"class": sample("CrashAtStart"), "max_restarts": "2"}, "alpha": RECORDER}
    )
    site.start()
    (alpha,) = site.wait_running(1, "alpha")

    def given_up() -> bool:
        return [row["state"] for row in site.runners("crasher")] == ["given-up"]

    wait_for(given_up, "the crasher given up")
    (crasher,) = site.runners("crasher")
    assert crasher["restarts"] == 2
    assert len(site.records("crasher", "started")) == 3
    assert "max_restarts (2) reached within crash_window" in site.log("master")
    assert "RuntimeError: crashing at start" in site.log("crasher")
    (still,) = site.runners("alpha")
    assert still["pid"] == alpha["pid"] and alive(alpha["pid"])

    # `posthorn restart` starts every runner afresh, the given-up one included.
    assert site.cli("restart").returncode == 0
    wait_for(lambda: len(site.records("crasher", "started")) > 3, "the crasher started again")

    def alpha_replaced() -> bool:
        (row,) = site.runners("alpha")
        return bool(row["state"] == "running" and row["pid"] != alpha["pid"])

    wait_for(alpha_replaced, "alpha restarted by SIGUSR1")
    assert site.runners("alpha")[0]["restarts"] == 0


def test_crashes_spread_over_time_never_use_up_the_budget(site: PosthornSite) -> None:
    """Only crashes within crash_window count: now and then is not a crash loop."""
    site.configure(
        {"flaky": {"class": sample("CrashOnCue"), "max_restarts": "2"}},
        master={"crash_window": "2s"},
    )
    site.start()
    for crash in range(1, 5):
        (row,) = site.wait_running(1, "flaky")
        wait_for(lambda n=crash: len(site.records("flaky", "started")) == n, "the start")  # type: ignore[misc]
        # Each crash comes after the one before has left the window.
        time.sleep(2.1)
        (site.var / "flaky-crash").touch()
        wait_for(lambda n=crash: len(site.records("flaky", "started")) == n + 1, "a restart")  # type: ignore[misc]
    (row,) = site.wait_running(1, "flaky")
    assert row["restarts"] == 4 and row["state"] == "running"
    assert "GIVEN UP" not in site.log("master")

    # Three crashes in a row, well within the window: a loop, given up, and shown.
    (site.var / "flaky-crash-always").touch()
    (site.var / "flaky-crash").touch()
    wait_for(lambda: [r["state"] for r in site.runners("flaky")] == ["given-up"], "given up")
    status = site.cli("status")
    assert status.returncode == 0
    (line,) = [line for line in status.stdout.splitlines() if line.startswith("flaky")]
    assert "GIVEN UP" in line
    assert "GIVEN UP: flaky 0/1 crashed 3 times within [master] crash_window" in status.stdout
    assert "CRITICAL GIVEN UP: flaky 0/1" in site.log("master")


def test_configuration_exit_is_not_restarted(site: PosthornSite) -> None:
    site.configure({"broken": {"class": sample("BadConfig")}, "gamma": IDLE})
    site.start()
    wait_for(lambda: [r["state"] for r in site.runners("broken")] == ["failed"], "broken failed")
    (row,) = site.runners("broken")
    assert row["last_exit"] == "exited with 78 (CONFIG)"
    assert row["restarts"] == 0
    assert "configuration error; not restarted" in site.log("master")
    assert len(site.records("broken", "started")) == 1


def test_sighup_and_reopen_reopen_every_log(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER, "gamma": IDLE})
    master = site.start()
    site.wait_running(2)
    logs = site.var / "logs"
    names = ("master", "alpha", "gamma")

    def rotate_then(send: Callable[[], object]) -> None:
        """Rename every log as logrotate does, ask for a reopen, see fresh files."""
        for name in names:
            path = logs / f"{name}.log"
            wait_for(path.exists, f"{name}.log")
            path.rename(logs / f"{name}.log.old")
        send()
        for name in names:
            wait_for(lambda n=name: "reopened" in site.log(n), f"a fresh {name}.log")  # type: ignore[misc]

    rotate_then(lambda: os.kill(master.pid, signal.SIGHUP))
    rotate_then(lambda: site.cli("reopen").check_returncode())
    assert "reopened the log file" in site.log("alpha")


def test_second_start_is_refused(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    site.start()
    (row,) = site.wait_running(1)
    for args in (("start", "--foreground"), ("start",)):
        again = site.cli(*args)
        assert again.returncode == 1
        assert "already running" in again.stderr
        assert "Traceback" not in again.stderr
    assert site.runners("alpha")[0]["pid"] == row["pid"] and alive(row["pid"])


def test_start_after_a_killed_master_breaks_the_stale_lock(site: PosthornSite) -> None:
    site.configure({"alpha": {**RECORDER, "instances": "2"}, "gamma": IDLE})
    first = site.start()
    old = [row["pid"] for row in site.wait_running(3)]
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    # Each runner notices its master's death on its own and exits.
    wait_for(lambda: not any(alive(pid) for pid in old), "the orphaned runners to exit")
    assert (site.var / "locks" / "master.lck").exists()

    second = site.start()
    new = [row["pid"] for row in wait_for(lambda: _fresh_rows(site, second.pid), "new runners")]
    assert not set(new) & set(old)
    assert "breaking the master lock" in site.log("master")
    assert f"pid {first.pid}" in site.log("master")


def _fresh_rows(site: PosthornSite, master_pid: int) -> list[dict[str, object]] | None:
    state = site.state()
    if state is None or state["master"]["pid"] != master_pid:
        return None
    rows = [row for row in state["runners"] if row["state"] == "running"]
    return rows if len(rows) == 3 else None


def test_daemon_start_returns_and_stop_ends_it(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    started = site.cli("start", timeout=20)
    assert started.returncode == 0, started.stderr
    assert "started (master pid" in started.stdout
    master_pid = int(started.stdout.split("master pid ")[1].split(")")[0])
    assert alive(master_pid)
    (row,) = site.wait_running(1)
    status = site.cli("status")
    assert status.returncode == 0 and f"master: pid {master_pid}" in status.stdout

    stopped = site.cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not alive(master_pid) and not alive(row["pid"])
    assert not (site.var / "locks" / "master.lck").exists()
    assert site.tagged_pids() == []


def test_max_messages_recycles_without_counting_a_crash(site: PosthornSite) -> None:
    site.configure({"alpha": {**RECORDER, "max_messages": "2"}})
    site.start()
    site.wait_running(1)
    from posthorn.queues import Switchboard

    queue = Switchboard(site.var / "queue" / "alpha")
    for number in range(5):
        queue.enqueue(f"Subject: m{number}\n\nbody\n".encode())
    wait_for(lambda: len(site.records("alpha", "processed")) == 5, "5 entries processed")
    assert len({r["pid"] for r in site.records("alpha", "processed")}) == 3
    wait_for(lambda: site.wait_running(1), "alpha running again")
    (row,) = site.runners("alpha")
    assert row["restarts"] == 0
    assert "exited with 79 (RECYCLE); recycled" in site.log("master")


def test_restart_applies_a_changed_file_and_refuses_a_wrong_one(site: PosthornSite) -> None:
    site.configure({"alpha": RECORDER})
    site.start()
    first = site.wait_running(1, "alpha")[0]["pid"]
    site.configure({"alpha": {**RECORDER, "instances": "2"}})
    done = site.cli("restart")
    assert done.returncode == 0, done.stderr
    assert "restarting every runner on" in done.stdout
    rows = site.wait_running(2, "alpha")
    assert first not in {row["pid"] for row in rows}
    assert "configuration reloaded" in site.log("master")

    # Another file naming the same site: the master would not read it, so it is refused.
    other = site.root / "other.cfg"
    other.write_text(site.config_file.read_text("utf-8"), encoding="utf-8")
    elsewhere = subprocess.run([POSTHORN, "-C", str(other), "restart"], capture_output=True,
                               text=True, env=site.env(), timeout=30)  # fmt: skip
    assert elsewhere.returncode == 1
    assert f"the running master reads {site.config_file}" in elsewhere.stderr

    site.configure({"alpha": {**RECORDER, "instances": "many"}})
    refused = site.cli("restart")
    assert refused.returncode == 1
    assert "[runner.alpha] instances" in refused.stderr
    assert "the running site keeps its configuration" in refused.stderr
    assert "Traceback" not in refused.stderr
    # Nothing was signalled: the same two processes still run.
    assert {row["pid"] for row in site.wait_running(2, "alpha")} == {r["pid"] for r in rows}

    helped = site.cli("restart", "--help")
    assert "Re-read and check the configuration file" in helped.stdout


def test_master_keeps_its_configuration_when_the_file_breaks_after_the_check(
    site: PosthornSite,
) -> None:
    site.configure({"alpha": RECORDER})
    master = site.start()
    site.wait_running(1, "alpha")
    site.configure({"alpha": {**RECORDER, "nope": "1"}})
    os.kill(master.pid, signal.SIGUSR1)
    wait_for(lambda: "configuration not reloaded" in site.log("master"), "the refusal logged")
    assert "[runner.alpha] nope: unknown key" in site.log("master")
    site.wait_running(1, "alpha")
