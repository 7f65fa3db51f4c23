"""Moderating over REST what arrived over LMTP: the whole path a held post takes.

A real master runs the lmtp, incoming and rest runners (the pipeline runner stays off,
so an accepted post waits on its queue for the assertion).  A non-member posts over
LMTP; the incoming runner holds the post; mailmanclient accepts one and discards
another, as a moderator would in Postorius.
"""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from mailmanclient import Client

from posthorn.queues import Switchboard
from tests.processes import free_port
from tests.sites import prepared_site, running_master, write_site_config
from tests.waiting import wait_for

from .conftest import PASSWORD, USER

pytestmark = pytest.mark.slow

LIST = "dev@held.example.org"
STRANGER = "stranger@example.net"
DEADLINE = 15.0


def site_file(tmp: Path, lmtp_port: int, rest_port: int) -> Path:
    extra = {"webservice": {"port": rest_port, "admin_pass": PASSWORD}}
    running = ("lmtp", "incoming", "rest")
    return write_site_config(tmp, lmtp_port=lmtp_port, running=running, extra_sections=extra)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, int, Path]]:
    tmp = tmp_path_factory.mktemp("held")
    lmtp_port, rest_port = free_port(), free_port()
    path = site_file(tmp, lmtp_port, rest_port)
    with prepared_site(path) as site:
        site.lists.create(LIST, owners=["owner@example.org"])
    with running_master(path, lmtp_port):
        wait_for(lambda: _listening(rest_port), "the REST server", DEADLINE)
        client = Client(f"http://127.0.0.1:{rest_port}/3.1", USER, PASSWORD)
        yield client, lmtp_port, tmp / "var" / "queue"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def post(port: int, subject: str) -> None:
    text = f"From: {STRANGER}\nTo: {LIST}\nSubject: {subject}\n"
    text += f"Message-ID: <{subject.replace(' ', '.')}@example.net>\n\nHello.\n"
    with smtplib.LMTP("127.0.0.1", port, timeout=10) as lmtp:
        lmtp.sendmail(STRANGER, [LIST], text.encode())


def test_a_post_held_over_lmtp_is_moderated_over_rest(
    running: tuple[Client, int, Path],
) -> None:
    client, port, queue_dir = running
    mlist = client.get_list(LIST)
    post(port, "first post")
    post(port, "second post")
    held = wait_for(lambda: len(mlist.held) == 2 and mlist.held, "two held posts", DEADLINE)
    by_subject = {message.subject: message for message in held}
    assert by_subject["first post"].sender == STRANGER
    by_subject["first post"].accept()
    pipeline = Switchboard(queue_dir / "pipeline")
    files = wait_for(pipeline.get_files, "the accepted post on the pipeline queue", DEADLINE)
    msg, msgdata = pipeline.dequeue(files[0])
    assert msg["Subject"] == "first post" and msgdata["approved"] is True
    by_subject["second post"].discard()
    assert mlist.held == [] and mlist.get_held_count() == 0
    assert pipeline.get_files() == []
