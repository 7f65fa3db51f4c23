"""Fixtures every test directory may use: a private var dir, configs, sites, databases.

- ``var_dir``: an empty directory standing for ``var/``; the test runs in its parent,
  with no ``$POSTHORN_CONFIG``, so no ambient site file leaks in.
- ``make_config(overrides=None, **sections)``: a Config from built-in defaults plus
  overrides, e.g. ``make_config(database={"url": url})`` or
  ``make_config({"runner.incoming": {"instances": "2"}})``; ``config`` is the default.
- ``make_site(config)``: a Site with migrated databases, closed at teardown; ``site``
  is one on ``config`` (override ``config`` in a directory's conftest to change it).
- ``recorded_events``: every event ``site`` fires, in order.
- ``site_file``: a site configuration file pointing at ``var_dir`` (append to it);
  ``invoke(*args, input=None)`` runs ``posthorn -C site_file ARGS`` in-process and
  returns click's Result (``exit_code``, ``output``, ``stdout``, ``stderr``);
  ``cli_site`` is a Site on the same file, for arranging data and checking results.
- ``postgres_url``: a URL to a private, empty schema in a throwaway PostgreSQL
  database made for this test run (dropped at the end); the test is skipped, with the
  reason, when no server answers.  ``$POSTHORN_TEST_POSTGRES`` names the server
  (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from posthorn.cli import main
from posthorn.config import Config, load_config
from posthorn.events import Event
from posthorn.site import Site

POSTGRES_SERVER = os.environ.get(
    "POSTHORN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

ConfigFactory = Callable[..., Config]
SiteFactory = Callable[[Config], Site]


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("POSTHORN_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture
def make_config(var_dir: Path) -> ConfigFactory:
    def make(
        overrides: Mapping[str, Mapping[str, Any]] | None = None, **sections: Mapping[str, Any]
    ) -> Config:
        merged: dict[str, dict[str, Any]] = {"paths": {"var_dir": str(var_dir)}}
        for name, values in {**(overrides or {}), **sections}.items():
            merged.setdefault(name, {}).update({key: str(v) for key, v in values.items()})
        return load_config(None, overrides=merged)

    return make


@pytest.fixture
def config(make_config: ConfigFactory) -> Config:
    return make_config()


@pytest.fixture
def make_site() -> Iterator[SiteFactory]:
    sites: list[Site] = []

    def make(config: Config) -> Site:
        site = Site(config)
        sites.append(site)
        site.databases.upgrade()
        return site

    yield make
    for site in sites:
        site.close()


@pytest.fixture
def site(config: Config, make_site: SiteFactory) -> Site:
    return make_site(config)


@pytest.fixture
def recorded_events(site: Site) -> Iterator[list[Event]]:
    seen: list[Event] = []
    site.events.subscribe(seen.append)
    yield seen
    site.events.unsubscribe(seen.append)


@pytest.fixture
def site_file(var_dir: Path) -> Path:
    path = var_dir.parent / "posthorn.cfg"
    path.write_text(f"[paths]\nvar_dir: {var_dir}\n", encoding="utf-8")
    return path


@pytest.fixture
def invoke(site_file: Path) -> Callable[..., Result]:
    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, ["-C", str(site_file), *args], input=input)

    return run


@pytest.fixture
def cli_site(site_file: Path, make_site: SiteFactory) -> Site:
    return make_site(load_config(site_file))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A database of our own on the test server for this run, dropped at the end."""
    server = make_url(POSTGRES_SERVER)
    try:
        admin = create_engine(
            server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
    except ImportError as error:
        pytest.skip(f"no PostgreSQL driver: {error}")
    name = f"posthorn_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"no PostgreSQL server at {server.render_as_string()}: {error.orig}")
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_database: URL) -> Iterator[str]:
    """A private schema for one test: quicker than a database each, just as isolated."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = postgres_database.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def hosts(tmp_path: Path, postgres_url: str) -> Iterator[list[Site]]:
    """Two hosts of one site: each its own var, both on one PostgreSQL schema."""
    sites = []
    for name in ("a", "b"):
        overrides = {
            "paths": {"var_dir": str(tmp_path / name / "var")},
            "database": {"url": postgres_url},
        }
        site = Site(load_config(None, overrides=overrides))
        site.databases.upgrade()
        sites.append(site)
    yield sites
    for site in sites:
        site.close()
