"""`posthorn start` refuses a bad runner section before it forks anything."""

from __future__ import annotations

import pytest

from tests.runners.harness import PosthornSite, sample

RECORDER = {"class": sample("Recorder")}


@pytest.mark.parametrize(
    ("keys", "fragments"),
    [
        (
            {"class": "tests.runners.no_such_module:Runner"},
            ["[runner.broken] class", "cannot load"],
        ),
        ({"class": sample("NotARunner")}, ["[runner.broken] class", "is not a runner class"]),
        ({"class": "posthorn.runners.base:Runner"}, ["[runner.broken] class", "a base class"]),
        ({}, ["[runner.broken] class", "no runner named 'broken'"]),
        ({**RECORDER, "max_restarts": "-1"}, ["[runner.broken] max_restarts", "0 or more"]),
        ({**RECORDER, "sleep_time": "0s"}, ["[runner.broken] sleep_time", "longer than 0s"]),
        ({**RECORDER, "instances": "3"}, ["[runner.broken] instances", "power of two"]),
    ],
)
def test_a_bad_runner_section_stops_start(
    site: PosthornSite, keys: dict[str, str], fragments: list[str]
) -> None:
    site.configure({"alpha": RECORDER, "broken": keys})
    result = site.cli("start", "--foreground")
    assert result.returncode == 1
    for fragment in fragments:
        assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    # Nothing was started, and nothing holds the lock.
    assert site.records("alpha", "started") == []
    assert not (site.var / "run" / "master.pid").exists()
    assert not (site.var / "locks" / "master.lck").exists()


@pytest.mark.parametrize(
    ("keys", "fragment"),
    [
        ({"restart_pause": "0s"}, "[master] restart_pause: must be longer than 0s"),
        ({"restart_pause_max": "10ms"}, "[master] restart_pause_max: must not be shorter"),
    ],
)
def test_a_bad_master_section_stops_start(
    site: PosthornSite, keys: dict[str, str], fragment: str
) -> None:
    site.configure({"alpha": RECORDER}, master=keys)
    result = site.cli("start")
    assert result.returncode == 1
    assert fragment in result.stderr
    assert site.records("alpha", "started") == []


def test_a_runner_switched_off_is_not_imported(site: PosthornSite) -> None:
    # A disabled runner may need a dependency the site lacks; only its values count.
    site.configure(
        {"alpha": RECORDER, "off": {"class": "tests.runners.no_such_module:X", "start": "no"}}
    )
    daemon = site.cli("start")
    assert daemon.returncode == 0, daemon.stderr
    assert site.cli("stop").returncode == 0


def test_a_reserved_runner_name_is_refused(site: PosthornSite) -> None:
    site.configure({"master": RECORDER})
    result = site.cli("start")
    assert result.returncode == 1
    assert "[runner.master]" in result.stderr and "reserved names" in result.stderr


def test_commands_need_a_running_master(site: PosthornSite) -> None:
    for command in ("stop", "restart", "reopen", "status"):
        result = site.cli(command)
        assert result.returncode == 1
        assert "Posthorn is not running" in result.stderr


def test_a_failed_schema_upgrade_stops_start_with_its_reason(site: PosthornSite) -> None:
    # The upgrade runs in a child of the master; its reason still reaches the terminal.
    unreachable = {"url": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"}
    site.configure({"alpha": RECORDER}, extra={"database": unreachable})
    result = site.cli("start", "--foreground")
    assert result.returncode == 1
    reason = result.stderr.split("database schema upgrade failed: ")[-1]
    assert "127.0.0.1" in reason and "port 1 failed" in reason, result.stderr
    assert site.records("alpha", "started") == []
    assert not (site.var / "locks" / "master.lck").exists()
