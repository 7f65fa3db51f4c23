"""A large post goes through a real site intact, and no runner holds it many times over.

The site runs lmtp, incoming, pipeline, outgoing and archive (the prototype archiver);
its MTA is a sink.  A small post warms every runner up, then each runner's peak
resident size is reset (``tests.memory``) and a 16 MiB post goes in over LMTP.  Every
member's copy and the archived copy must carry the attachment unchanged, and no runner's
peak may rise by more than ``BOUND`` times the post's size (``bench/memory_bench.py``
prints the figures; before the message path kept copies down, the rise was about 9x).
"""

from __future__ import annotations

import email
import smtplib
from pathlib import Path

import pytest

from posthorn.site import Site
from tests.memory import MIB, RunnerMemory, large_post, site_settings
from tests.sites import master_with_sink
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

LIST = "big@example.org"
MEMBERS = ["ann@example.com", "bob@example.com"]
RUNNING = ("lmtp", "incoming", "pipeline", "outgoing", "archive")
SIZE = 16 * MIB
# The required bound; the runners measure about 2.1x (bench/memory_bench.py).
BOUND = 3.0


def arrange(site: Site) -> None:
    site.lists.create(LIST, owners=["owner@example.org"])
    site.lists.update(LIST, default_nonmember_action="accept", max_message_size=0)
    for address in MEMBERS:
        site.lists.subscribe(LIST, address)


def post(lmtp_port: int, data: bytes) -> None:
    with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=60) as client:
        client.sendmail("poster@example.net", [LIST], data)


def attachment(data: bytes) -> bytes:
    msg = email.message_from_bytes(data)
    (part,) = [p for p in msg.walk() if p.get_filename() == "data"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def test_a_large_post_is_delivered_intact_and_held_at_most_three_times(tmp_path: Path) -> None:
    payload = (b"0123456789abcdef" * (SIZE // 16))[: SIZE * 3 // 4]
    data = large_post(LIST, SIZE, "big", payload)
    with master_with_sink(
        tmp_path, running=RUNNING, arrange=arrange, extra_sections=site_settings()
    ) as (_, lmtp_port, sink):
        post(lmtp_port, large_post(LIST, 40 * 1024, "warm-up"))
        wait_for(lambda: sink.delivered() >= len(MEMBERS), "the warm-up post")
        memory = RunnerMemory(tmp_path / "var")
        memory.reset()
        post(lmtp_port, data)
        wait_for(lambda: sink.delivered() >= 2 * len(MEMBERS), "the large post", 120)
        archived = tmp_path / "var" / "archives" / "prototype" / "big.example.org" / "new"
        wait_for(lambda: len(list(archived.iterdir())) >= 2, "the archived copy", 60)
        rises = memory.extra()
    with sink.lock:
        copies = [(rcpts, content) for _, rcpts, content in sink.received]
    ((rcpts, content),) = [copy for copy in copies if b"large post big" in copy[1]]
    assert sorted(rcpts) == MEMBERS
    assert attachment(content) == payload
    stored = max(archived.iterdir(), key=lambda path: path.stat().st_size)
    assert attachment(stored.read_bytes()) == payload
    assert set(rises) == set(RUNNING)
    over = {name: f"{rise / len(data):.1f}x" for name, rise in rises.items()}
    assert all(rise < BOUND * len(data) for rise in rises.values()), over
