"""The hyperkitty archiver against an HTTP server on loopback that checks what HyperKitty does.

The server parses the multipart form as a web framework would, checks the
``Authorization: Token KEY`` header, keeps each message once by its Message-ID-Hash and
answers ``{"url": ...}``; it can be told to fail the next requests.  HyperKitty itself
is driven in tests/web/test_archive_api.py.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Callable, Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from posthorn.archivers.hyperkitty import HyperKittyArchiver, HyperKittyRefused
from posthorn.archivers.status import ArchiveStatus
from posthorn.interfaces.archivers import IArchiver
from posthorn.interfaces.messages import message_id_hash
from posthorn.site import Site
from tests.archivers.conftest import LIST, Archive, post
from tests.conftest import ConfigFactory, SiteFactory

KEY = "s3cret-key"


class StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.archived: dict[str, tuple[str, bytes]] = {}
        self.requests = 0
        self.fail_next = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hyperkitty"


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, format: str, *args: object) -> None:
        pass

    def answer(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.server.requests += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path != "/hyperkitty/api/mailman/archive":
            return self.answer(404, {"error": self.path})
        if self.headers.get("Authorization") != f"Token {KEY}":
            return self.answer(401, {"error": "Authorization Required"})
        if self.server.fail_next:
            self.server.fail_next -= 1
            return self.answer(503, {"error": "busy"})
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        form = email.message_from_bytes(head + body, policy=email.policy.HTTP)
        parts = form.iter_parts()  # type: ignore[attr-defined]
        fields = {part.get_param("name", header="content-disposition"): part for part in parts}
        mlist = str(fields["mlist"].get_payload(decode=True).decode())
        raw = fields["message"].get_payload(decode=True)
        if fields["message"].get_filename() is None:
            return self.answer(400, {"error": "message is not a file"})
        msg = email.message_from_bytes(raw)
        hashed = message_id_hash(str(msg["message-id"]))
        self.server.archived.setdefault(hashed, (mlist, raw))
        self.answer(200, {"url": f"https://elsewhere.test/list/{mlist}/message/{hashed}/"})


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def hyperkitty_site(
    make_config: ConfigFactory, make_site: SiteFactory, **keys: str
) -> tuple[Site, HyperKittyArchiver]:
    site = make_site(make_config({"archiver.hyperkitty": keys}))
    if site.lists.get(LIST) is None:
        site.lists.create(LIST, owners=["owner@example.org"])
    return site, HyperKittyArchiver(site, "hyperkitty")


def test_urls_follow_hyperkittys_scheme_and_a_message_is_posted_once(
    make_config: ConfigFactory, make_site: SiteFactory, stand_in: StandIn
) -> None:
    site, archiver = hyperkitty_site(
        make_config, make_site, base_url="https://lists.example.org/hyperkitty/",
        api_url=stand_in.url, api_key=KEY,
    )  # fmt: skip
    assert isinstance(archiver, IArchiver)
    mlist = site.lists.get(LIST)
    assert mlist is not None
    msg: Message = post(1)
    hashed = message_id_hash(str(msg["message-id"]))
    base = "https://lists.example.org/hyperkitty/list/dev@example.org/"
    assert archiver.list_url(mlist) == base
    assert archiver.permalink(mlist, msg) == f"{base}message/{hashed}/"
    assert archiver.archive_message(mlist, msg) == f"{base}message/{hashed}/"
    # Offered again after a lost answer: HyperKitty keeps one copy and says 200 again.
    assert archiver.archive_message(mlist, msg) == f"{base}message/{hashed}/"
    assert stand_in.requests == 2
    [(address, raw)] = stand_in.archived.values()
    assert address == "dev@example.org" and raw == msg.as_bytes()


def test_a_wrong_key_or_a_missing_setting_is_a_clear_error(
    make_config: ConfigFactory, make_site: SiteFactory, stand_in: StandIn
) -> None:
    site, archiver = hyperkitty_site(make_config, make_site, base_url=stand_in.url, api_key="wrong")
    mlist = site.lists.get(LIST)
    assert mlist is not None
    with pytest.raises(HyperKittyRefused, match=r"HTTP 401 .*Authorization Required"):
        archiver.archive_message(mlist, post(1))
    site, archiver = hyperkitty_site(make_config, make_site, base_url=stand_in.url)
    with pytest.raises(HyperKittyRefused, match="api_key is empty"):
        archiver.archive_message(mlist, post(2))
    assert stand_in.archived == {}


def test_the_archive_runner_retries_until_hyperkitty_takes_the_message(
    archive_site: Callable[..., Archive], stand_in: StandIn
) -> None:
    stand_in.fail_next = 2
    archive = archive_site(
        {"archiver.hyperkitty": {"enable": "yes", "base_url": stand_in.url, "api_key": KEY}}
    )
    posts = [post(n) for n in range(3)]
    for msg in posts:
        archive.enqueue(msg)
    archive.drain()
    assert sorted(stand_in.archived) == sorted(message_id_hash(str(m["message-id"])) for m in posts)
    status = ArchiveStatus(archive.site.config.path("run_dir") / "archivers.json").load()
    assert status["hyperkitty"]["archived"] == 3 and status["hyperkitty"]["failed"] == 2
    assert "HTTP 503" in status["hyperkitty"]["last_error"]
    assert archive.shunted() == []
