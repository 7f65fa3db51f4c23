"""Fixtures for the runner tests (the harness itself is in ``harness.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runners.harness import PosthornSite


@pytest.fixture
def site(tmp_path: Path) -> Iterator[PosthornSite]:
    """A private site whose processes are all killed, by pid, when the test ends."""
    posthorn = PosthornSite(tmp_path)
    try:
        yield posthorn
    finally:
        posthorn.kill_everything()
