"""The archive runner: every enabled archiver, each retried on its own, then shunted."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from posthorn.archivers.prototype import PrototypeArchiver
from posthorn.archivers.status import ArchiveStatus
from posthorn.interfaces.messages import message_id_hash
from tests.archivers import sample
from tests.archivers.conftest import LIST, Archive, post

ArchiveSite = Callable[..., Archive]
PROTOTYPE = {"archiver.prototype": {"enable": "yes"}}


def plugin(name: str, cls: str, **extra: str) -> dict[str, dict[str, str]]:
    return {
        f"archiver.{name}": {"class": f"tests.archivers.sample:{cls}", "enable": "yes", **extra}
    }


def hashes(msgs: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(message_id_hash(str(m["message-id"])) for m in msgs)


def test_a_plugin_named_by_two_lines_of_configuration_gets_every_post(
    archive_site: ArchiveSite,
) -> None:
    archive = archive_site(plugin("x", "X"))
    posts = [post(n) for n in range(5)]
    for msg in posts:
        archive.enqueue(msg)
    archive.drain()
    root = archive.site.config.path("archive_dir") / "x"
    assert sample.archived(root) == hashes(posts)


def test_an_archiver_that_fails_three_times_ends_with_each_message_once_everywhere(
    archive_site: ArchiveSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sample.Flaky, "failures", 3)
    archive = archive_site({**PROTOTYPE, **plugin("flaky", "Flaky"), **plugin("x", "X")})
    posts = [post(n) for n in range(3)]
    for msg in posts:
        archive.enqueue(msg)
    archive.drain()
    root = archive.site.config.path("archive_dir")
    assert sample.archived(root / "flaky") == hashes(posts)
    assert sample.archived(root / "x") == hashes(posts)
    stored = PrototypeArchiver(archive.site, "prototype").store(archive.site.lists.get(LIST))  # type: ignore[arg-type]
    assert stored.keys() == hashes(posts)
    status = ArchiveStatus(archive.site.config.path("run_dir") / "archivers.json").load()
    assert status["flaky"]["failed"] == 3 and status["flaky"]["archived"] == 3
    assert "archive unreachable" in status["flaky"]["last_error"]
    assert status["x"] == {**status["x"], "archived": 3, "failed": 0}
    assert archive.shunted() == []


def test_a_permanently_failing_archiver_is_shunted_with_the_reason_after_the_period(
    archive_site: ArchiveSite,
) -> None:
    archive = archive_site(
        {
            **plugin("broken", "Broken"),
            **plugin("x", "X"),
            "runner.archive": {"retry_base": "10ms", "retry_max": "20ms", "retry_period": "150ms"},
        }
    )
    msg = post(1)
    archive.enqueue(msg)
    archive.drain()
    [shunted] = archive.shunted()
    assert "broken: RuntimeError: disk on fire" in shunted["shunt_reason"]
    assert shunted["archive_done"] == ["x"]
    assert shunted["archive_attempts"]["broken"] >= 2
    # The healthy archiver got the message once, not once per retry.
    assert sample.archived(archive.site.config.path("archive_dir") / "x") == hashes([msg])


def test_a_hung_archiver_times_out_without_holding_up_the_others(
    archive_site: ArchiveSite,
) -> None:
    archive = archive_site({**PROTOTYPE, **plugin("hung", "Hung", timeout="200ms")})
    archive.enqueue(post(1))
    started = time.monotonic()
    archive.runner.run_once()
    assert time.monotonic() - started < 2
    mlist = archive.site.lists.get(LIST)
    assert mlist is not None
    assert len(PrototypeArchiver(archive.site, "prototype").store(mlist).keys()) == 1
    [(_, data)] = [
        archive.retry.switchboard.dequeue_raw(f) for f in archive.retry.switchboard.files
    ]
    assert data["archive_done"] == ["prototype"]
    assert "hung: timed out after 0.2s" in data["retry_reason"]


def test_a_list_can_switch_an_archiver_off_and_never_archives_nothing(
    archive_site: ArchiveSite,
) -> None:
    archive = archive_site({**PROTOTYPE, **plugin("x", "X")})
    archive.site.lists.update(LIST, disabled_archivers=("prototype",))
    archive.enqueue(post(1))
    archive.drain()
    root = archive.site.config.path("archive_dir")
    assert len(sample.archived(root / "x")) == 1
    assert not (root / "prototype").exists()
    archive.site.lists.update(LIST, archive_policy="never")
    archive.enqueue(post(2))
    archive.drain()
    assert len(sample.archived(root / "x")) == 1
