"""The built-in archivers: prototype, lmtp (with the reference server), command, mail-archive."""

from __future__ import annotations

import email
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from posthorn.archivers.command import CommandArchiver, CommandFailed
from posthorn.archivers.lmtp import LMTPArchiver
from posthorn.archivers.lmtp_server import ArchiveServer
from posthorn.archivers.mail_archive import MailArchiveArchiver
from posthorn.archivers.prototype import PrototypeArchiver
from posthorn.archivers.store import MaildirStore
from posthorn.interfaces.archivers import IArchiver
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.messages import message_id_hash
from posthorn.site import Site
from tests.archivers.conftest import LIST, post
from tests.conftest import ConfigFactory, SiteFactory
from tests.processes import free_port
from tests.smtpsink import SMTPSink

SiteWith = Callable[..., tuple[Site, IMailingList]]


@pytest.fixture
def site_with(make_config: ConfigFactory, make_site: SiteFactory) -> SiteWith:
    def build(**sections: dict[str, str]) -> tuple[Site, IMailingList]:
        site = make_site(make_config({f"archiver.{k}": v for k, v in sections.items()}))
        return site, site.lists.create(LIST, owners=["owner@example.org"])

    return build


def test_prototype_keeps_colliding_messages_apart_and_duplicates_once(
    site_with: SiteWith,
) -> None:
    site, mlist = site_with()
    archiver = PrototypeArchiver(site, "prototype")
    assert isinstance(archiver, IArchiver)
    first, second = post(1, "<same@example.net>"), post(2, "<same@example.net>", "Other.\n")
    url1 = archiver.archive_message(mlist, first)
    assert archiver.archive_message(mlist, first) == url1
    url2 = archiver.archive_message(mlist, second)
    hashed = message_id_hash("<same@example.net>")
    assert url1 == archiver.permalink(mlist, first) and url1.endswith(hashed)  # type: ignore[union-attr]
    assert url2 is not None and url2.endswith(f"{hashed}-2")
    store = archiver.store(mlist)
    assert store.keys() == [hashed, f"{hashed}-2"]
    assert archiver.lookup(mlist, url2) == second.as_bytes()
    assert list(store.tmp.iterdir()) == []
    assert Path(url1[len("file://") :]).read_bytes() == first.as_bytes()  # type: ignore[index]


@pytest.fixture
def archive_server(tmp_path: Path) -> Iterator[ArchiveServer]:
    server = ArchiveServer(tmp_path / "served", "127.0.0.1", free_port())
    server.start()
    yield server
    server.stop()


def test_lmtp_offers_the_next_permalink_when_one_is_taken(
    site_with: SiteWith, archive_server: ArchiveServer
) -> None:
    site, mlist = site_with(lmtp={"port": str(archive_server.port), "base_url": "https://a.test"})
    archiver = LMTPArchiver(site, "lmtp")
    first, second = post(1, "<dup@example.net>"), post(2, "<dup@example.net>", "Other.\n")
    hashed = message_id_hash("<dup@example.net>")
    url1 = archiver.archive_message(mlist, first)
    assert url1 == archiver.permalink(mlist, first) == f"https://a.test/{mlist.list_id}/{hashed}"
    url2 = archiver.archive_message(mlist, second)
    assert url2 == f"https://a.test/{mlist.list_id}/{hashed}-2"
    # Offered again (a retry after a timeout): acknowledged, not stored twice.
    assert archiver.archive_message(mlist, second) == url2
    store = MaildirStore(archive_server.root / mlist.list_id)
    assert store.keys() == [hashed, f"{hashed}-2"]
    for key, msg in ((hashed, first), (f"{hashed}-2", second)):
        got = email.message_from_bytes(store.get(key) or b"")
        assert str(got.get_payload()).strip() == str(msg.get_payload()).strip()
        assert got["message-id"] == msg["message-id"]


def test_lmtp_gives_up_after_max_candidates(
    site_with: SiteWith, archive_server: ArchiveServer
) -> None:
    site, mlist = site_with(lmtp={"port": str(archive_server.port), "max_candidates": "2"})
    archiver = LMTPArchiver(site, "lmtp")
    for n in range(2):
        archiver.archive_message(mlist, post(n, "<x@example.net>", f"Body {n}\n"))
    with pytest.raises(RuntimeError, match="2 permalinks"):
        archiver.archive_message(mlist, post(3, "<x@example.net>", "Third.\n"))


def test_command_pipes_the_message_and_its_exit_status_decides(
    site_with: SiteWith, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    script = (
        "import sys; data = sys.stdin.buffer.read(); "
        f"open('{out}/' + sys.argv[1], 'wb').write(data); "
        "sys.exit(3 if b'FAIL' in data else 0)"
    )
    site, mlist = site_with(command={"command": f'{sys.executable} -c "{script}" {{hash}}'})
    archiver = CommandArchiver(site, "command")
    msg = post(1)
    archiver.archive_message(mlist, msg)
    assert (out / message_id_hash(str(msg["message-id"]))).read_bytes() == msg.as_bytes()
    with pytest.raises(CommandFailed, match="exit status 3"):
        archiver.archive_message(mlist, post(2, body="FAIL\n"))


def test_mail_archive_sends_a_copy_and_computes_the_service_permalink(
    site_with: SiteWith, make_config: ConfigFactory, make_site: SiteFactory
) -> None:
    sink = SMTPSink(free_port())
    sink.start()
    try:
        site = make_site(make_config(mta={"smtp_port": str(sink.port)}))
        mlist = site.lists.create(LIST, owners=["owner@example.org"])
        archiver = MailArchiveArchiver(site, "mail-archive")
        msg = post(1)
        hashed = message_id_hash(str(msg["message-id"]))
        assert archiver.permalink(mlist, msg) == f"http://go.mail-archive.com/{hashed}"
        assert archiver.list_url(mlist) == "http://go.mail-archive.com/dev%40example.org"
        archiver.archive_message(mlist, msg)
        [(sender, rcpts, _)] = sink.received
        assert (sender, rcpts) == ("dev-bounces@example.org", ["archive@mail-archive.com"])
        private = site.lists.update(LIST, archive_policy="private")
        assert archiver.permalink(private, msg) is None
    finally:
        sink.stop()
