"""Site jobs in a child of the runner: their answer and their changes come back, and
their errors too; without the master, or on the amqp backend, they run in the runner."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from posthorn.runners import aside
from posthorn.runners.aside import run_aside
from tests.conftest import ConfigFactory, SiteFactory


@pytest.fixture
def enabled() -> Iterator[None]:
    aside.enable()
    yield
    aside.enable(False)


def test_a_job_runs_in_a_child_and_its_database_changes_stay(
    enabled: None, make_config: ConfigFactory, make_site: SiteFactory
) -> None:
    site = make_site(make_config())
    site.lists.count()  # the runner holds a connection of its own before the fork

    def job() -> float:
        site.lists.create("aside@example.org", owners=["owner@example.org"])
        return float(os.getpid())

    assert run_aside(site, job) != os.getpid()
    assert [m.posting_address for m in site.lists.lists()] == ["aside@example.org"]


def test_a_failing_job_is_an_error_in_the_runner(
    enabled: None, make_config: ConfigFactory, make_site: SiteFactory
) -> None:
    site = make_site(make_config())

    def job() -> float:
        raise LookupError("no such thing")

    with pytest.raises(RuntimeError, match="LookupError: no such thing"):
        run_aside(site, job)


def test_without_the_master_or_on_amqp_a_job_runs_in_the_runner(
    make_config: ConfigFactory, make_site: SiteFactory
) -> None:
    site = make_site(make_config())
    assert run_aside(site, lambda: float(os.getpid())) == os.getpid()
    aside.enable()
    try:
        amqp = make_site(make_config(queues={"backend": "amqp"}))
        assert run_aside(amqp, lambda: float(os.getpid())) == os.getpid()
    finally:
        aside.enable(False)
