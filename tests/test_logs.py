"""Logging set-up: a process set up again (a runner forked from the master) writes only
to its own file, through the one file handler it had."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from posthorn.config import Config
from posthorn.logs import ReopenableFileHandler, log_path, setup_logging


@pytest.fixture
def clean_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_set_up_again_writes_only_to_the_new_file(config: Config, clean_root: None) -> None:
    setup_logging(config, "master", stderr=True)
    logging.getLogger("posthorn.master").warning("from the master")
    handler = logging.getLogger().handlers[0]
    log = setup_logging(config, "alpha")
    log.warning("from alpha")
    root = logging.getLogger()
    # The master's file handler, now on alpha's file; the stderr handler gone.
    assert root.handlers == [handler]
    assert isinstance(handler, ReopenableFileHandler)
    assert "from alpha" in log_path(config, "alpha").read_text()
    master_log = log_path(config, "master").read_text()
    assert "from the master" in master_log and "from alpha" not in master_log
