"""A handler that raises on one message, and one that hangs on one message.

The raising one: the entry is shunted with the reason, the other posts flow, and
``posthorn unshunt`` after the fix delivers it.  The hanging one: the master's watchdog
(``[runner.pipeline] entry_timeout``) kills the stuck runner, the master restarts it,
the entry's attempt counter shunts it after its budget, and the rest is delivered.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from posthorn.queues.entry import decode
from tests.faults.stack import Poster, build, make_post
from tests.processes import posthorn_command
from tests.waiting import wait_for

POSTING = (
    "mime-delete, avoid-duplicates, cleanse, cleanse-dkim, subject-prefix, cook-headers, "
    "to-archive, to-digest, decorate, after-delivery, acknowledge, dmarc, {}, to-outgoing"
)
# The watchdog kills a runner whose entry in hand is older than this, so an ordinary post
# must pass the pipeline well within it however loaded the machine: with 1 s, a post
# slowed down by other work was killed like the hanging one (redone, so duplicated, and
# shunted after three kills).
ENTRY_TIMEOUT = "5s"
# One round of the hanging entry: the timeout, the watchdog's check interval, a restart.
HANG_ROUND = 10.0
# Polled, so generous: it only matters when something is really missing.
DELIVERED = 60.0


def _post_with(poster: Poster, count: int, special: int, word: str) -> str:
    special_mid = ""
    for n in range(count):
        if n == special:
            special_mid = f"<{word}-{n}@example.net>"
            body = make_post(special_mid, n).replace(b"Subject: chaos", f"Subject: {word}".encode())
            poster.post(n, body, mid=special_mid)
        else:
            poster.post(n)
    return special_mid


def test_raising_handler_shunts_one_then_unshunt_delivers(tmp_path: Path) -> None:
    handler = "tests.faults.handlers:Poison"
    stack = build(tmp_path, 3, extra={"pipeline.posting": {"handlers": POSTING.format(handler)}})
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        bad = _post_with(poster, 8, 3, "poison")
        others = [mid for mid in poster.accepted if mid != bad]
        outcome = stack.wait_delivered(others, DELIVERED)
        assert outcome.missing == []
        shunted = stack.queue_files("shunt")
        assert len(shunted) == 1
        data, msgdata = decode(shunted[0].read_bytes())
        assert bad.encode() in data
        assert msgdata["shunt_reason"] == "pipeline: RuntimeError: poisoned message"
        assert "poisoned message" in stack.log("pipeline")
        assert stack.outcome([bad]).missing  # not delivered while broken
        (stack.var_dir / "fixed").touch()
        result = subprocess.run(
            [*posthorn_command(), "-C", str(stack.site_file), "unshunt"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert stack.wait_delivered([bad], DELIVERED).missing == []
        assert stack.queue_files("shunt") == []
        print(f"poison: 7 others delivered while 1 shunted; unshunt -> {result.stdout.strip()}")
    finally:
        stack.stop()
        stack.sink.stop()


def test_hanging_handler_is_killed_and_shunted(tmp_path: Path) -> None:
    handler = "tests.faults.handlers:Hang"
    extra = {
        "pipeline.posting": {"handlers": POSTING.format(handler)},
        "runner.pipeline": {"entry_timeout": ENTRY_TIMEOUT},
    }
    stack = build(tmp_path, 3, extra=extra)
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        stuck = _post_with(poster, 8, 2, "hang")
        others = [mid for mid in poster.accepted if mid != stuck]
        # Behind the hanging entry: three watchdog kills and restarts come first.
        outcome = stack.wait_delivered(others, DELIVERED + 3 * HANG_ROUND)
        assert outcome.missing == []
        assert outcome.duplicates == 0

        def shunted() -> bool:
            return len(stack.queue_files("shunt")) == 1

        wait_for(shunted, "the hanging entry in shunt", 30)
        data, msgdata = decode(stack.queue_files("shunt")[0].read_bytes())
        assert stuck.encode() in data
        assert "unfinished attempts" in msgdata["shunt_reason"]
        master_log = stack.log("master")
        kills = master_log.count("over entry_timeout")
        assert kills >= 2
        print(f"hang: {kills} watchdog kills, then shunted: {msgdata['shunt_reason']}")
    finally:
        stack.stop()
        stack.sink.stop()
