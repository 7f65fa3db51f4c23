"""With a real master and an SMTP sink: a slow archiver never delays delivery.

The ``slow`` archiver takes two seconds per message; members get every copy long before
the archives are complete, and the archives then catch up with nothing missing.  The
permalink in the members' copies is the one the prototype archive serves.
"""

from __future__ import annotations

import email
import subprocess
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest

from posthorn.archivers.prototype import PrototypeArchiver
from posthorn.config import load_config
from posthorn.interfaces.messages import message_id_hash
from posthorn.queues import Switchboard
from posthorn.site import Site
from tests.archivers.conftest import LIST, post
from tests.archivers.sample import archived
from tests.processes import free_port, start_master, stop
from tests.smtpsink import SMTPSink
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

RUNNERS = {"pipeline", "outgoing", "retry", "archive"}
MEMBERS = [f"m{n}@example.com" for n in range(5)]
ARCHIVERS = """
[archiver.prototype]
enable: yes

[archiver.x]
class: tests.archivers.sample:X
enable: yes

[archiver.slow]
class: tests.archivers.sample:Slow
enable: yes
"""


def write_site_file(
    tmp: Path, smtp_port: int, archivers: str, members: list[str] = MEMBERS
) -> Path:
    """A site running only the delivery and archive runners, with these archivers."""
    defaults = load_config(None, overrides={"paths": {"var_dir": str(tmp / "var")}})
    lines = [
        f"[paths]\nvar_dir: {tmp / 'var'}\n",
        f"[mta]\nsmtp_port: {smtp_port}\nlmtp_port: {free_port()}\n",
        "[runner.archive]\nretry_base: 200ms\n",
    ]
    lines += [f"[runner.{n}]\nstart: no\n" for n in defaults.named("runner") if n not in RUNNERS]
    path = tmp / "posthorn.cfg"
    path.write_text("\n".join(lines) + archivers)
    site = Site(load_config(path))
    site.databases.upgrade()
    site.lists.create(LIST, owners=["owner@example.org"])
    for address in members:
        site.lists.subscribe(LIST, address)
    site.close()
    return path


@pytest.fixture
def sink() -> Iterator[SMTPSink]:
    server = SMTPSink(free_port())
    server.start()
    yield server
    server.stop()


def test_a_slow_archiver_does_not_delay_delivery_and_the_archive_catches_up(
    tmp_path: Path, sink: SMTPSink
) -> None:
    site_file = write_site_file(tmp_path, sink.port, ARCHIVERS)
    var = tmp_path / "var"
    process = start_master(site_file, tmp_path, subprocess.DEVNULL)
    try:
        posts = [post(n) for n in range(4)]
        board = Switchboard(var / "queue" / "pipeline", name="pipeline")
        for msg in posts:
            board.enqueue(msg, {"list_id": "dev.example.org"})
        expected = sorted(message_id_hash(str(m["message-id"])) for m in posts)
        wait_for(lambda: sink.delivered() >= len(posts) * len(MEMBERS), "every copy", 20)
        # Four posts take the slow archiver eight seconds; delivery did not wait for it.
        assert len(archived(var / "archives" / "slow")) < len(posts)
        wait_for(lambda: archived(var / "archives" / "slow") == expected, "the archive", 30)
        assert archived(var / "archives" / "x") == expected
        check_permalinks(site_file, sink, expected)
    finally:
        stop(process)


def check_permalinks(site_file: Path, sink: SMTPSink, expected: list[str]) -> None:
    site = Site(load_config(site_file))
    try:
        mlist = site.lists.get(LIST)
        assert mlist is not None
        prototype = PrototypeArchiver(site, "prototype")
        assert prototype.store(mlist).keys() == expected
        for _, _, data in sink.received:
            copy = email.message_from_bytes(data, policy=policy.compat32)
            # Long URLs arrive folded; a URL has no whitespace of its own.
            urls = ["".join(str(v).split()).strip("<>") for v in copy.get_all("archived-at", [])]
            [url] = [u for u in urls if u.startswith(prototype.list_url(mlist) or "-")]
            served = email.message_from_bytes(prototype.lookup(mlist, url) or b"")
            assert served["message-id"] == copy["message-id"]
            assert f"https://x.example/dev.example.org/{copy['message-id-hash']}" in urls
    finally:
        site.close()
