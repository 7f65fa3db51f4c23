"""The bounce runner's own loop: its periodic sweep must not end the process."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from posthorn.runners.base import ExitCode
from posthorn.runners.bounce import BounceRunner
from tests.conftest import ConfigFactory, SiteFactory


def test_a_sweep_that_cannot_list_the_lists_is_logged_and_tried_again(
    make_config: ConfigFactory,
    make_site: SiteFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # No interval: every round of the loop is due for a sweep.
    site = make_site(make_config({"runner.bounce": {"check_interval": "0s"}}))
    runner = BounceRunner(site, "bounce")
    calls: list[str] = []

    def database_away() -> list[object]:
        calls.append("lists")
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(site.lists, "lists", database_away)
    waits: list[float | None] = []

    def wait(timeout: float | None = None) -> None:
        waits.append(timeout)
        runner._stopping = len(waits) == 2

    monkeypatch.setattr(runner, "_wait", wait)
    try:
        with caplog.at_level(logging.ERROR, logger="posthorn.bounce"):
            assert runner._loop() == ExitCode.OK
    finally:
        runner.close()
    # Both rounds swept, and both failures are in the log.
    assert calls == ["lists", "lists"]
    assert sum("bounce sweep failed" in r.getMessage() for r in caplog.records) == 2
