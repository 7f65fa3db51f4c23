"""In-process fixtures for the incoming runner, its rules and chains (no master).

``mlist`` is dev@example.org with an owner, a moderator, one member (alice) and the
moderator password ``s3cret``; ``runner`` is an IncomingRunner on the test site;
``post(data, **msgdata)`` puts a post on queue incoming; ``drain()`` runs the runner
until the queue is empty; ``take(queue)`` removes and returns a queue's entries.
"""

from __future__ import annotations

import email
from collections.abc import Callable, Iterator
from email.message import Message
from typing import Any

import pytest

from posthorn.interfaces.lists import IMailingList
from posthorn.queues import Switchboard
from posthorn.runners.incoming import IncomingRunner
from posthorn.site import Site
from tests.waiting import drain as drain_runners

LIST = "dev@example.org"
OWNER = "owner@example.org"
MODERATOR = "mod@example.org"
MEMBER = "alice@example.com"
PASSWORD = "s3cret"

Entries = list[tuple[Message, dict[str, Any]]]


def make_post(
    sender: str = MEMBER,
    subject: str = "Hello",
    body: str = "A body.\n",
    to: str = LIST,
    extra: str = "",
) -> bytes:
    head = f"From: {sender}\nTo: {to}\nSubject: {subject}\nMessage-ID: <m@example.com>\n{extra}"
    return (head + "\n" + body).encode()


def text_of(msg: Message, index: int | None = None) -> str:
    """The decoded text of a message, or of its part ``index`` (a notice's text)."""
    part = msg.get_payload(index) if index is not None else msg
    assert isinstance(part, Message)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@pytest.fixture
def mlist(site: Site) -> IMailingList:
    site.lists.create(LIST, owners=[OWNER])
    site.lists.subscribe(LIST, MODERATOR, role="moderator")
    site.lists.subscribe(LIST, MEMBER)
    return site.lists.update(LIST, moderator_password=PASSWORD)


@pytest.fixture
def runner(site: Site, mlist: IMailingList) -> Iterator[IncomingRunner]:
    made = IncomingRunner(site, "incoming")
    yield made
    made.close()


@pytest.fixture
def post(runner: IncomingRunner) -> Callable[..., str]:
    def put(data: bytes, **msgdata: Any) -> str:
        meta = {"list_id": "dev.example.org", "to_list": True, "envelope_sender": MEMBER}
        meta.update(msgdata)
        return runner.queue("incoming").enqueue(data, meta)

    return put


@pytest.fixture
def drain(runner: IncomingRunner) -> Callable[[], int]:
    return lambda: drain_runners(runner)


@pytest.fixture
def take(runner: IncomingRunner) -> Callable[[str], Entries]:
    def get(name: str) -> Entries:
        board = Switchboard(runner.site.config.path("queue_dir") / name)
        entries: Entries = []
        for filebase in board.files:
            data, msgdata = board.dequeue_raw(filebase)
            entries.append((email.message_from_bytes(data), msgdata))
            board.finish(filebase)
        board.close()
        return entries

    return get
