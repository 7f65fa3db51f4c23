"""The databases: migrations match the models, slices stay apart, SQLite is set up well."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from posthorn.config import Config, ConfigError
from posthorn.database import Databases
from posthorn.database.migrating import VERSION_TABLES, include_name
from posthorn.model import SLICES, metadata
from posthorn.site import Site
from tests.processes import in_child

USER_TABLES = {"users", "addresses"}
LIST_TABLES = {"domains", "mailinglists", "members", "pendings"}
MESSAGE_TABLES = {"messages", "held_messages"}


@pytest.mark.parametrize("slice_", SLICES)
def test_the_migrated_schema_matches_the_models(site: Site, slice_: str) -> None:
    with site.databases.engine(slice_).connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": include_name(slice_), "compare_type": True}
        )
        assert compare_metadata(context, metadata(slice_)) == []


def test_each_slice_has_its_own_history(site: Site) -> None:
    engine = site.databases.engine("list")
    names = set(inspect(engine).get_table_names())
    assert {*USER_TABLES, *LIST_TABLES, *MESSAGE_TABLES, *VERSION_TABLES.values()} <= names
    with engine.connect() as connection:
        for slice_, table in VERSION_TABLES.items():
            # One row per head: a slice's history may branch (upgrades run to every head).
            query = text(f"SELECT version_num FROM {table}")
            revisions = list(connection.execute(query).scalars())
            assert revisions and all(revision.startswith(f"{slice_}s_") for revision in revisions)


def test_upgrade_again_is_a_quick_no_op(site: Site) -> None:
    started = time.monotonic()
    site.databases.upgrade()
    assert time.monotonic() - started < 2.0
    assert site.lists.lists() == []


def test_members_name_their_list_by_list_id_without_a_foreign_key(site: Site) -> None:
    inspector = inspect(site.databases.engine("list"))
    for table in LIST_TABLES:
        assert inspector.get_foreign_keys(table) == [], table
    columns = {column["name"]: column for column in inspector.get_columns("members")}
    assert "list_id" in columns and "email" in columns
    assert "mailinglist_id" not in columns and "address_id" not in columns
    mlist = site.lists.create("dev@example.org")
    site.lists.subscribe(mlist, "anne@example.org")
    with site.databases.engine("list").connect() as connection:
        row = connection.execute(text("SELECT list_id, email FROM members")).one()
    assert tuple(row) == ("dev.example.org", "anne@example.org")


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_user_data_can_live_in_another_database(
    make_config: Callable[..., Config], make_site: Callable[[Config], Site], var_dir: Path
) -> None:
    lists_file, users_file = var_dir / "lists.db", var_dir / "users" / "users.db"
    config = make_config(
        database={"url": f"sqlite:///{lists_file}", "user_url": f"sqlite:///{users_file}"}
    )
    site = make_site(config)
    mlist = site.lists.create("dev@example.org", owners=["owner@example.org"])
    site.lists.subscribe(mlist, "anne@example.org")
    assert site.databases.urls()["user"] != site.databases.urls()["list"]
    assert _tables(users_file) >= USER_TABLES
    assert not (LIST_TABLES | MESSAGE_TABLES) & _tables(users_file)
    assert not USER_TABLES & _tables(lists_file)
    assert _tables(lists_file) >= LIST_TABLES
    with sqlite3.connect(users_file) as connection:
        emails = {email for (email,) in connection.execute("SELECT email FROM addresses")}
    assert emails == {"owner@example.org", "anne@example.org"}
    assert [m.email for m in site.lists.roster(mlist).members] == ["anne@example.org"]


@pytest.mark.postgresql
def test_users_in_postgresql_lists_in_sqlite(
    make_config: Callable[..., Config],
    make_site: Callable[[Config], Site],
    var_dir: Path,
    postgres_url: str,
) -> None:
    config = make_config(
        database={"url": f"sqlite:///{var_dir}/lists.db", "user_url": postgres_url}
    )
    site = make_site(config)
    site.lists.create("dev@example.org")
    member = site.lists.subscribe("dev@example.org", "anne@example.org")
    user_tables = set(inspect(site.databases.engine("user")).get_table_names())
    assert user_tables >= USER_TABLES
    assert not LIST_TABLES & user_tables
    assert site.users.get_address("anne@example.org") is not None
    assert member.list_id == "dev.example.org"


def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(
    make_config: Callable[..., Config], var_dir: Path
) -> None:
    databases = Databases(make_config())
    try:
        with databases.engine("list").connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("busy_timeout") == 30_000
            assert pragma("foreign_keys") == 1
        assert (var_dir / "data" / "posthorn.db").exists()
    finally:
        databases.dispose()


def test_slices_on_one_url_share_one_engine(make_config: Callable[..., Config]) -> None:
    databases = Databases(make_config())
    try:
        assert databases.engine("user") is databases.engine("list") is databases.engine("message")
    finally:
        databases.dispose()


def test_a_session_rolls_back_on_error(site: Site) -> None:
    with pytest.raises(RuntimeError), site.databases.session("list") as session:
        session.execute(text("INSERT INTO domains (mail_host, description) VALUES ('x.org', '')"))
        raise RuntimeError("boom")
    assert site.domains.get("x.org") is None


def test_urls_hide_passwords(make_config: Callable[..., Config]) -> None:
    config = make_config(database={"message_url": "postgresql+psycopg://mail:secret@db.example/x"})
    urls = Databases(config).urls()
    assert "secret" not in urls["message"] and "***" in urls["message"]
    assert urls["user"] == urls["list"] != urls["message"]


def test_a_malformed_url_names_the_key(make_config: Callable[..., Config]) -> None:
    databases = Databases(make_config(database={"list_url": "not a url"}))
    with pytest.raises(ConfigError, match=r"\[database\] list_url: not a database URL"):
        databases.engine("list")


def test_the_comparison_notices_a_drifted_schema(site: Site) -> None:
    """Guards the test above: a schema that differs from the models must show up."""
    with site.databases.engine("list").begin() as connection:
        connection.execute(text("DROP INDEX ix_members_email"))
        context = MigrationContext.configure(
            connection, opts={"include_name": include_name("list"), "compare_type": True}
        )
        differences = compare_metadata(context, metadata("list"))
    assert [difference[0] for difference in differences] == ["add_index"]


def test_a_forked_child_takes_over_engines_left_without_connections(site: Site) -> None:
    """What the master does before forking its runners (``preload``), then a runner."""
    databases = site.databases
    databases.connect_once()
    databases.close_connections()
    engine = databases.engine("list")
    assert engine.pool.checkedin() == 0  # nothing open for a child to inherit

    def as_a_runner() -> str:
        child = Site(site.config, databases=databases)
        child.lists.create("forked@example.org", owners=["owner@example.org"])
        return str(engine.pool.checkedin())

    assert in_child(as_a_runner) == "1"
    assert engine.pool.checkedin() == 0  # the child's connection was its own
    assert site.lists.get("forked@example.org") is not None
