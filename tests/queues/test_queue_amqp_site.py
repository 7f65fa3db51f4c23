"""A whole site on the amqp backend: posts in over LMTP, runners, copies out over SMTP.

The site of the fault tests (``tests/faults/stack.py``), with ``[queues] backend =
amqp``: every queue between the LMTP server and the sink is a quorum queue on the
broker at 127.0.0.1:5672, under a prefix of this test's own, and no queue folder is
made at all.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from posthorn.queues.amqp_store import AmqpStore
from tests.broker import URL, broker_prefix, size
from tests.faults.stack import Poster, PostStream, build

POSTS = 10
MEMBERS = 3
KINDS = ("lmtp", "incoming", "pipeline", "outgoing")


@pytest.mark.slow
def test_posts_through_lmtp_and_the_runners_reach_every_member_once(tmp_path: Path) -> None:
    with broker_prefix() as prefix:
        queues = {"backend": "amqp", "amqp_url": URL, "amqp_prefix": prefix}
        stack = build(tmp_path, MEMBERS, extra={"queues": queues})
        try:
            stack.start()
            poster = Poster(stack.lmtp_port, prefix="amqp")
            for n in range(POSTS):
                poster.post(n)
            assert len(poster.accepted) == POSTS and not poster.refused
            outcome = stack.wait_delivered(poster.accepted, 60)
            assert outcome.missing == []
            assert outcome.duplicates == 0
            for name in ("incoming", "pipeline", "outgoing", "shunt", "bad"):
                assert size(prefix, name) == 0, name
            assert not (stack.var_dir / "queue" / "incoming").exists()
        finally:
            stack.stop()
            stack.sink.stop()


@pytest.mark.slow
def test_runners_killed_while_posts_flow_lose_nothing(tmp_path: Path) -> None:
    # At least once, as on files: each kill may redo the entry in hand, so at most one
    # extra copy per member and kill.  Each kind is killed twice, no more: a third kill
    # with the same entry in hand would rightly shunt it (max_attempts), on either
    # backend, and this test is about loss.
    with broker_prefix() as prefix:
        queues = {"backend": "amqp", "amqp_url": URL, "amqp_prefix": prefix}
        stack = build(tmp_path, MEMBERS, extra={"queues": queues})
        rng = random.Random(20261203)
        try:
            stack.start()
            poster = Poster(stack.lmtp_port, prefix="killed")
            stream = PostStream(poster, 6 * POSTS, pause=0.05)
            stream.start()
            kills: list[str] = []
            while stream.is_alive() and len(kills) < 2 * len(KINDS):
                time.sleep(0.5)
                killed = stack.kill_random_runner(rng, kind=KINDS[len(kills) % len(KINDS)])
                if killed:
                    kills.append(killed)
            stream.join()
            assert stream.error is None, stream.error
            outcome = stack.wait_delivered(poster.accepted, 60)
            assert len(kills) >= len(KINDS)
            shunted = [
                (e.queue, e.msgdata.get("shunt_reason"))
                for e in AmqpStore(URL, prefix=prefix).scan()
            ]
            assert outcome.missing == [], (kills, shunted)
            assert outcome.duplicates <= len(kills) * MEMBERS
        finally:
            stack.stop()
            stack.sink.stop()
