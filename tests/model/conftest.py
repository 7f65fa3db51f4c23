"""Model tests run twice: on SQLite (a file in var/data) and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from posthorn.config import Config


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db_url(request: pytest.FixtureRequest, var_dir: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{var_dir}/data/posthorn.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def config(make_config: Callable[..., Config], db_url: str) -> Config:
    return make_config(database={"url": db_url})
