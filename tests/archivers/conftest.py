"""An in-process archive runner (and retry runner) on a private site, drained by hand.

``archive_site(**sections)`` builds a site whose configuration adds ``sections``
(e.g. ``{"archiver.prototype": {"enable": "yes"}}``), with one list, ``LIST``;
``Archive`` enqueues posts, drains the archive and retry runners until nothing is left
(or a deadline passes) and reads the shunt queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Any

import pytest

from posthorn.queues import Switchboard
from posthorn.runners.archive import ArchiveRunner
from posthorn.runners.retry import RetryRunner
from posthorn.site import Site
from tests.conftest import ConfigFactory, SiteFactory
from tests.waiting import drain, wait_for

LIST = "dev@example.org"
FAST_RETRY = {"retry_base": "10ms", "retry_max": "50ms"}


def post(n: int, message_id: str | None = None, body: str = "Hello.\n") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "poster@example.net"
    msg["To"] = LIST
    msg["Subject"] = f"post {n}"
    msg["Message-ID"] = message_id or f"<post-{n}.{time.time_ns()}@example.net>"
    msg.set_content(body)
    return msg


class Archive:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.runner = ArchiveRunner(site, "archive")
        self.retry = RetryRunner(site, "retry")
        self.queue_dir = site.config.path("queue_dir")

    def enqueue(self, msg: EmailMessage) -> None:
        self.runner.enqueue("archive", msg, {"list_id": "dev.example.org"})

    def drain(self, deadline: float = 10.0) -> None:
        """Run both runners until the archive and retry queues are empty."""

        def drained() -> bool:
            drain(self.runner, self.retry)
            return not self.retry._held and not self.runner.switchboard.files

        # The retry runner holds an entry until its time comes: hence a wait, not one drain.
        wait_for(drained, "the archive and retry queues drained", deadline)

    def shunted(self) -> list[dict[str, Any]]:
        board = Switchboard(self.queue_dir / "shunt", name="shunt")
        return [board.dequeue_raw(filebase)[1] for filebase in board.files]

    def close(self) -> None:
        self.runner.close()
        self.retry.close()


@pytest.fixture
def archive_site(make_config: ConfigFactory, make_site: SiteFactory) -> Callable[..., Archive]:
    made: list[Archive] = []

    def build(sections: Mapping[str, Mapping[str, Any]]) -> Archive:
        site = make_site(make_config({"runner.archive": FAST_RETRY, **sections}))
        site.lists.create(LIST, owners=["owner@example.org"])
        archive = Archive(site)
        made.append(archive)
        return archive

    yield build  # type: ignore[misc]
    for archive in made:
        archive.close()
