"""Site-wide locks: one holder across hosts sharing a PostgreSQL database, and across
the processes of one host on SQLite; a due job runs once whichever host asks.

The "hosts" are sites with var dirs of their own and one database, as two machines
would have; the last test runs a real master for each, with their task and bounce
runners, and counts the runs of every site-wide job in both hosts' logs.
"""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from posthorn import stopping
from posthorn.config import load_config
from posthorn.site import Site
from posthorn.site_lock import WAIT_TURN, SiteLocks, lock_key
from tests.processes import free_port
from tests.sites import prepared_site, running_master, write_site_config
from tests.waiting import wait_for

LOG = logging.getLogger("tests.site_lock")
TASK_JOBS = ("task.evict", "task.digests", "task.reminders", "task.prune")


def host(tmp: Path, name: str, database_url: str) -> Site:
    var_dir = tmp / name / "var"
    overrides = {"paths": {"var_dir": str(var_dir)}, "database": {"url": database_url}}
    site = Site(load_config(None, overrides=overrides))
    site.databases.upgrade()
    return site


@pytest.fixture(params=["postgresql", "sqlite"])
def two_hosts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Site]]:
    """Two sites on one database: two hosts on PostgreSQL, two processes' view on SQLite."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        sites = [host(tmp_path, "a", url), host(tmp_path, "b", url)]
    else:
        # One host: both share the var dir, as two runners of one machine do.
        url = f"sqlite:///{tmp_path / 'posthorn.db'}"
        sites = [host(tmp_path, "a", url), host(tmp_path, "a", url)]
    yield sites
    for site in sites:
        site.close()


def test_a_lock_has_one_holder_at_a_time(two_hosts: list[Site]) -> None:
    first, second = (SiteLocks.from_site(site) for site in two_hosts)
    with first.hold("digest.dev.example.org") as held:
        assert held
        with second.hold("digest.dev.example.org") as other:
            assert not other
        # Another name is another lock.
        with second.hold("bounce-sweep") as other:
            assert other
    with second.hold("digest.dev.example.org") as held:
        assert held


def test_a_due_job_runs_once_whichever_host_asks(two_hosts: list[Site]) -> None:
    first, second = (SiteLocks.from_site(site) for site in two_hosts)
    runs: list[str] = []
    assert first.run_due("evict", 3600, lambda: runs.append("a"), LOG) == 3600
    wait = second.run_due("evict", 3600, lambda: runs.append("b"), LOG)
    assert runs == ["a"]
    assert 3500 < wait <= 3600
    # No interval: due at every asking, on either host.
    second.run_due("evict", 0, lambda: runs.append("b"), LOG)
    assert runs == ["a", "b"]


def test_a_host_does_not_run_a_job_another_is_running(two_hosts: list[Site]) -> None:
    first, second = (SiteLocks.from_site(site) for site in two_hosts)
    runs: list[str] = []

    def long_job() -> None:
        # While the first host runs it, the second asks and is told to come back.
        runs.append("a")
        assert second.run_due("prune", 3600, lambda: runs.append("b"), LOG) < 3600

    first.run_due("prune", 3600, long_job, LOG)
    assert runs == ["a"]


def test_a_job_that_fails_is_not_counted_as_run(two_hosts: list[Site]) -> None:
    (locks, _) = (SiteLocks.from_site(site) for site in two_hosts)

    def fails() -> None:
        raise RuntimeError("broken")

    with pytest.raises(RuntimeError):
        locks.run_due("reminders", 3600, fails, LOG)
    runs: list[int] = []
    locks.run_due("reminders", 3600, lambda: runs.append(1), LOG)
    assert runs == [1]


def test_keys_are_stable_and_differ_by_name_and_schema() -> None:
    assert lock_key("bounce-sweep", "public") == lock_key("bounce-sweep", "public")
    assert lock_key("bounce-sweep", "public") != lock_key("task.evict", "public")
    assert lock_key("bounce-sweep", "public") != lock_key("bounce-sweep", "other")
    assert -(2**63) <= lock_key("x") < 2**63


def runs_in(log: str, job: str) -> int:
    return len(re.findall(rf"site job {re.escape(job)}: running it here", log))


def asked(log: str, job: str) -> bool:
    return re.search(rf"site job {re.escape(job)}: ", log) is not None


@pytest.mark.slow
def test_two_hosts_run_each_site_wide_job_once(tmp_path: Path, postgres_url: str) -> None:
    """Two masters, each with a task and a bounce runner, on one PostgreSQL database."""
    hosts = []
    for name in ("a", "b"):
        port = free_port()
        (tmp_path / name).mkdir()
        path = write_site_config(
            tmp_path / name,
            lmtp_port=port,
            running=("lmtp", "task", "bounce"),
            extra_sections={"database": {"url": postgres_url}, "logging": {"level": "debug"}},
        )
        with prepared_site(path):
            pass
        hosts.append((path, port))
    logs = [path.parent / "var" / "logs" for path, _ in hosts]
    jobs = {"task.log": TASK_JOBS, "bounce.log": ("bounce-sweep",)}

    def text(name: str) -> list[str]:
        return [(d / name).read_text() if (d / name).exists() else "" for d in logs]

    def every_host_asked() -> bool:
        return all(asked(log, job) for name, names in jobs.items()
                   for log in text(name) for job in names)  # fmt: skip

    with (
        running_master(*hosts[0], output=subprocess.DEVNULL),
        running_master(*hosts[1], output=subprocess.DEVNULL),
    ):
        wait_for(every_host_asked, "every host's runners asking for every site-wide job")
    for name, names in jobs.items():
        for job in names:
            assert sum(runs_in(log, job) for log in text(name)) == 1, (job, text(name))


def test_a_wait_goes_on_across_turns_until_the_holder_lets_go(hosts: list[Site]) -> None:
    first, second = (SiteLocks.from_site(site) for site in hosts)
    taken, released = threading.Event(), []

    def hold_a_while() -> None:
        with first.hold("digest.dev.example.org") as held:
            assert held
            taken.set()
            time.sleep(3 * WAIT_TURN)
            released.append(time.monotonic())

    holder = threading.Thread(target=hold_a_while)
    holder.start()
    try:
        assert taken.wait(30)
        with second.holding("digest.dev.example.org") as connection:
            got = time.monotonic()
            assert connection is not None
            # The holder's statements run under the server's own lock_timeout again.
            assert connection.execute(text("SHOW lock_timeout")).scalar() == "0"
    finally:
        holder.join()
    assert released and got >= released[0]


def test_a_stop_ends_a_wait_for_a_lock_another_host_holds(hosts: list[Site]) -> None:
    first, second = (SiteLocks.from_site(site) for site in hosts)
    with first.hold("digest.dev.example.org") as held:
        assert held
        stopping.request()
        try:
            asked = time.monotonic()
            with (
                pytest.raises(stopping.StopRequested, match=r"site lock digest\.dev"),
                second.hold("digest.dev.example.org", wait=True),
            ):
                pass
            assert time.monotonic() - asked < 2 * WAIT_TURN
        finally:
            stopping.reset()
        # The first host's hold is untouched; once free, the second takes it at once.
    with second.hold("digest.dev.example.org", wait=True) as held:
        assert held
