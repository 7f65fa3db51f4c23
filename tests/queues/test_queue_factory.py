"""The one factory: ``[queues] backend`` picks the store every queue comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from posthorn.config import ConfigError, load_config
from posthorn.queues.store import FileStore
from posthorn.queuing import open_queue, queue_store


def test_files_is_the_default_backend(tmp_path: Path) -> None:
    config = load_config(overrides={"paths": {"var_dir": str(tmp_path)}})
    store = queue_store(config)
    assert isinstance(store, FileStore)
    assert store.backend == "files"
    assert not store.exists("incoming")
    with open_queue(config, "incoming") as board:
        filebase = board.enqueue(b"Subject: hi\n\nbody\n", {"list_id": "a.example.org"})
    assert store.names() == ["incoming"]
    assert store.waiting("incoming") == [filebase]
    assert store.peek(filebase)[1]["list_id"] == "a.example.org"


def test_an_unknown_backend_is_a_configuration_error(tmp_path: Path) -> None:
    site = tmp_path / "posthorn.cfg"
    site.write_text("[queues]\nbackend: carrier-pigeon\n", encoding="utf-8")
    config = load_config(site)
    with pytest.raises(ConfigError) as raised:
        queue_store(config)
    assert str(raised.value).startswith(f"{site}: [queues] backend: unknown queue backend")
    assert "'carrier-pigeon'" in str(raised.value)


def test_the_amqp_backend_is_chosen_and_its_url_checked(tmp_path: Path) -> None:
    site = tmp_path / "posthorn.cfg"
    site.write_text("[queues]\nbackend: amqp\namqp_prefix: site-a\n", encoding="utf-8")
    store = queue_store(load_config(site))
    assert store.backend == "amqp"
    assert "shunt" in store.location("shunt") and "site-a.shunt" in store.location("shunt")
    site.write_text("[queues]\nbackend: amqp\namqp_url: http://localhost/\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[queues\] amqp_url: expected an amqp://"):
        queue_store(load_config(site))
