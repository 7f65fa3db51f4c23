"""Third-party style archivers for the tests, named by dotted path in configuration.

Each records what it archived as files under ``$archive_dir/NAME/`` (one per call, so a
test can count copies across processes), keyed by Message-ID-Hash.
"""

from __future__ import annotations

import os
import time
from email.message import Message
from pathlib import Path

from posthorn.archivers.base import hash_of
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site


class X:
    """The smallest archiver: no base class, just the IArchiver methods."""

    def __init__(self, site: Site, name: str) -> None:
        self.name = name
        self.root = site.config.path("archive_dir") / name

    def list_url(self, mlist: IMailingList) -> str | None:
        return f"https://x.example/{mlist.list_id}"

    def permalink(self, mlist: IMailingList, msg: Message) -> str | None:
        return f"https://x.example/{mlist.list_id}/{hash_of(msg)}"

    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{hash_of(msg)}.{time.time_ns()}.{os.getpid()}"
        (self.root / name).write_bytes(msg.as_bytes())
        return self.permalink(mlist, msg)


def archived(root: Path) -> list[str]:
    """The hashes an X-like archiver recorded, one per call."""
    return sorted(p.name.split(".")[0] for p in root.iterdir()) if root.is_dir() else []


class Slow(X):
    """Takes two seconds per message, like a sluggish remote archive."""

    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        time.sleep(2)
        return super().archive_message(mlist, msg)


class Flaky(X):
    """Fails the first three calls, then works."""

    failures = 3

    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        if Flaky.failures > 0:
            Flaky.failures -= 1
            raise ConnectionError("archive unreachable")
        return super().archive_message(mlist, msg)


class Broken(X):
    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        raise RuntimeError("disk on fire")


class Hung(X):
    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        time.sleep(30)
        return None
