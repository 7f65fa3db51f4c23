"""Notices use the texts a front end stored by URI, fetched over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from posthorn.handlers.decorate import Decorate
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.model.template_uris import DatabaseTemplateUris
from posthorn.site import Site
from posthorn.workflows.subscription import SubscriptionWorkflow
from posthorn.workflows.unsubscription import UnsubscriptionWorkflow

TEXTS = {
    "/list/welcome.txt": "Hello $user_email, this is $listname. Help: $request_email\n",
    "/domain/goodbye.txt": "So long from $domain_name.\n",
}
AUTH = "Basic " + base64.b64encode(b"postorius:secret").decode()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        text = TEXTS.get(self.path)
        if self.headers.get("Authorization") != AUTH:
            self.send_response(401)
        elif text is None:
            self.send_response(404)
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(text.encode())
            return
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def front_end() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def __call__(self, queue: str, msg: Message | bytes, msgdata: dict[str, Any]) -> str:
        assert isinstance(msg, Message)
        self.sent.append(msg)
        return str(len(self.sent))


def body_of(msg: Message) -> str:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@pytest.fixture
def mlist(site: Site) -> IMailingList:
    mlist = site.lists.create("dev@example.org")
    return site.lists.update(mlist, subscription_policy="open", unsubscription_policy="open")


def test_list_then_domain_texts_are_used(site: Site, mlist: IMailingList, front_end: str) -> None:
    uris = DatabaseTemplateUris.from_site(site)
    welcome, goodbye = "list:user:notice:welcome", "list:user:notice:goodbye"
    uris.set(welcome, None, f"{front_end}/site/missing.txt", "postorius", "secret")
    uris.set(welcome, mlist.list_id, f"{front_end}/list/welcome.txt", "postorius", "secret")
    uris.set(goodbye, mlist.mail_host, f"{front_end}/domain/goodbye.txt", "postorius", "secret")
    outbox = Outbox()
    outcome = SubscriptionWorkflow(site, mlist, outbox).start("anne@example.com", pre_verified=True)
    assert outcome.status == "subscribed", outcome
    (welcomed,) = outbox.sent
    assert "Welcome" in str(welcomed["Subject"])  # the subject stays the shipped one
    assert body_of(welcomed) == (
        "Hello anne@example.com, this is dev@example.org. Help: dev-request@example.org\n"
    )
    UnsubscriptionWorkflow(site, mlist, outbox).start("anne@example.com", pre_confirmed=True)
    assert body_of(outbox.sent[-1]) == "So long from example.org.\n"


def test_a_front_end_that_fails_leaves_the_shipped_text(
    site: Site, mlist: IMailingList, front_end: str
) -> None:
    uris = DatabaseTemplateUris.from_site(site)
    # Wrong credentials, then a URI nothing answers: the notice still goes out.
    uris.set("list:user:notice:welcome", None, f"{front_end}/list/welcome.txt", "x", "y")
    outbox = Outbox()
    SubscriptionWorkflow(site, mlist, outbox).start("bob@example.com", pre_verified=True)
    assert "bob@example.com" in body_of(outbox.sent[0])
    assert "To post, write to" in body_of(outbox.sent[0])


def test_the_front_ends_footer_decorates_posts(
    site: Site, mlist: IMailingList, front_end: str
) -> None:
    TEXTS["/list/footer.txt"] = "-- \n$display_name: write to $listname\n"
    uris = DatabaseTemplateUris.from_site(site)
    footer = f"{front_end}/list/footer.txt"
    uris.set("list:member:regular:footer", mlist.mail_host, footer, "postorius", "secret")
    handler = Decorate(HandlerContext(site, lambda queue, msg, data: "entry"))
    msg = message_from_bytes(b"From: a@example.net\nSubject: x\n\nHello.\n")
    handler.process(mlist, msg, {})
    text = msg.get_payload(decode=True)
    assert isinstance(text, bytes)
    assert text.decode() == "Hello.\n-- \nDev: write to dev@example.org\n"
    # Without a stored URI the list's own footer setting applies.
    uris.delete("list:member:regular:footer", mlist.mail_host)
    plain = message_from_bytes(b"From: a@example.net\nSubject: x\n\nHello.\n")
    handler.process(mlist, plain, {})
    assert b"To unsubscribe send an email to" in (plain.get_payload(decode=True) or b"")
