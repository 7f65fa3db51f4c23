"""A whole site on the amqp backend: posts in over LMTP, runners, copies out over SMTP.

The site of the fault tests (``tests/faults/stack.py``), with ``[queues] backend =
amqp``: every queue between the LMTP server and the sink is a quorum queue on the
broker at 127.0.0.1:5672, under a prefix of this test's own, and no queue folder is
made at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.broker import URL, broker_prefix, size
from tests.faults.stack import Poster, build

POSTS = 10
MEMBERS = 3


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
