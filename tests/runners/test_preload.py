"""What the master loads before forking: engines warmed, no connection left, no change;
and a lookup failing then does not keep the master from starting."""

from __future__ import annotations

import pytest

from posthorn.config import Config
from posthorn.runners.process import preload, preloaded_databases
from tests.conftest import SiteFactory
from tests.runners.harness import PosthornSite, sample


def test_preload_leaves_warm_engines_without_connections_and_changes_nothing(
    config: Config, make_site: SiteFactory
) -> None:
    site = make_site(config)
    site.databases.upgrade()
    before = site.databases.stamp.token()
    preload(config)
    databases = preloaded_databases(config)
    assert databases is not None
    engine = databases.engine("list")
    # Warmed: the queries every runner asks are compiled already, in what it inherits.
    assert len(engine._compiled_cache) > 0
    assert engine.pool.checkedin() == 0 and engine.pool.checkedout() == 0
    assert site.lists.count() == 0
    assert site.databases.stamp.token() == before
    # A runner on another configuration (after a reload) makes its own engines.
    assert preloaded_databases(Config.__new__(Config)) is None
    preload(config)  # again, as on reload: the earlier engines are let go
    assert preloaded_databases(config) is not databases


@pytest.mark.slow
def test_the_master_starts_and_says_so_when_a_lookup_fails_before_forking(
    site: PosthornSite,
) -> None:
    site.configure(
        {"gamma": {"class": sample("Idle")}},
        extra={"components": {"list_manager": sample("ListsAway")}},
    )
    master = site.start()
    site.wait_running(1, "gamma")
    assert master.poll() is None
    assert "preloading failed; each runner loads what it needs itself" in site.log("master")
    assert "the list directory is out of reach" in site.log("master")
