"""What the master loads before forking: engines warmed, no connection left, no change;
and a lookup failing then does not keep the master from starting."""

from __future__ import annotations

from typing import Any

import pytest

from posthorn.config import Config
from posthorn.database import SLICES
from posthorn.model.bans import DatabaseBanManager
from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.model.template_uris import DatabaseTemplateUris
from posthorn.runners.process import preload, preloaded_site
from posthorn.runners.rest import RestRunner
from tests.conftest import ConfigFactory, SiteFactory
from tests.runners.harness import PosthornSite, sample


def test_preload_leaves_warm_engines_without_connections_and_changes_nothing(
    config: Config, make_site: SiteFactory
) -> None:
    site = make_site(config)
    site.databases.upgrade()
    before = site.databases.stamp.token()
    preload(config)
    preloaded = preloaded_site(config)
    assert preloaded is not None
    databases = preloaded.databases
    engine = databases.engine("list")
    # Warmed: the queries every runner asks are compiled already, in what it inherits.
    assert engine._compiled_cache
    pool: Any = engine.pool
    assert pool.checkedin() == 0 and pool.checkedout() == 0
    assert site.lists.count() == 0
    assert site.databases.stamp.token() == before
    # A runner on another configuration (after a reload) makes its own engines.
    assert preloaded_site(Config.__new__(Config)) is None
    preload(config)  # again, as on reload: the earlier site and engines are let go
    again = preloaded_site(config)
    assert again is not None and again.databases is not databases


def test_preload_compiles_what_runners_look_up_for_every_post(
    config: Config, make_site: SiteFactory
) -> None:
    site = make_site(config)
    site.lists.create("ant@example.com", owners=["owner@example.com"])
    preload(config)
    preloaded = preloaded_site(config)
    assert preloaded is not None
    engines = {id(engine): engine for engine in map(preloaded.databases.engine, SLICES)}

    def compiled() -> dict[int, int]:
        return {key: len(engine._compiled_cache or {}) for key, engine in engines.items()}

    before = compiled()
    # What runners ask for a post to a real list: each statement is compiled already.
    preloaded.lists.get("ant@example.com")
    preloaded.lists.find_members(list_id="ant.example.com", email="poster@example.org")
    DatabaseBanManager.from_site(preloaded).is_banned("poster@example.org", "ant.example.com")
    DatabaseHeaderMatches.from_site(preloaded).of("ant.example.com")
    DatabaseTemplateUris.from_site(preloaded).lookup(["list:member:regular:footer"], [None])
    roster = preloaded.lists.roster("ant.example.com")
    assert [member.email for member in roster.owners] == ["owner@example.com"]
    assert list(roster.addresses(("regular", "mime_digests"), 10)) == []
    assert compiled() == before


def test_the_rest_runner_serves_the_application_built_before_the_fork(
    make_config: ConfigFactory, make_site: SiteFactory
) -> None:
    # Port 0: the socket the master listens on is any free one.
    config = make_config(webservice={"port": "0"})
    make_site(config)  # migrated
    preload(config, [RestRunner])
    preloaded = preloaded_site(config)
    assert preloaded is not None
    app = RestRunner(preloaded, "rest").app()
    assert RestRunner(preloaded, "rest").app() is app
    # A runner on a site of its own builds its own.
    assert RestRunner(make_site(config), "rest").app() is not app


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
