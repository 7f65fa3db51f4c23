"""``posthorn import mailman3`` from a real Mailman 3.3.10 whose database is PostgreSQL.

Mailman gets a database of its own on the local PostgreSQL server (created here and
dropped at the end); the import reads it through a ``postgresql+psycopg`` URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from posthorn.site import Site
from tests.conftest import POSTGRES_SERVER
from tests.importers.mailman3_checks import Invoke, check_everything, imported, summary
from tests.importers.mailman3_peer import MailmanSnapshot, filled_mailman

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mailman_database() -> Iterator[str]:
    server = make_url(POSTGRES_SERVER)
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"mailman_import_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"no PostgreSQL server at {server.render_as_string()}: {error.orig}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def mailman(
    tmp_path_factory: pytest.TempPathFactory, mailman_database: str
) -> Iterator[MailmanSnapshot]:
    with filled_mailman(tmp_path_factory.mktemp("mailman-pg"), mailman_database) as snapshot:
        yield snapshot


def test_everything_comes_over_from_postgresql(
    invoke: Invoke, cli_site: Site, mailman: MailmanSnapshot
) -> None:
    assert mailman.database_url.startswith("postgresql")
    first = imported(invoke, mailman)
    assert summary(first)["members"] == [6, 0, 0], first.output
    check_everything(cli_site, mailman)
    again = imported(invoke, mailman)
    counts = summary(again)
    assert all(created == changed == 0 for created, changed, _ in counts.values()), again.output
