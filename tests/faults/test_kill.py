"""SIGKILL while posts flow: a random runner again and again, then the whole site at once.

The contract is at least once.  Each SIGKILL interrupts at most one entry per process
killed; redoing that entry can hand on one extra copy (a pipeline killed after its
enqueue to outgoing, an outgoing runner killed after the MTA's 250, an LMTP runner
killed after the queue write but before its 250 reached the poster, which then posts
again).  So the bound asserted is: extra copies <= kills x members.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from tests.faults.stack import Poster, PostStream, build
from tests.waiting import wait_for

POSTS = 60
MEMBERS = 3
KINDS = ("lmtp", "incoming", "pipeline", "outgoing", "retry", "virgin", "archive")


def test_random_runner_sigkill_loses_nothing(tmp_path: Path) -> None:
    stack = build(tmp_path, MEMBERS)
    rng = random.Random(20240601)
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        stream = PostStream(poster, POSTS, pause=0.05)
        stream.start()
        kills: list[str] = []
        while stream.is_alive():
            time.sleep(0.3)  # spacing the kills in time is the scenario
            # Round-robin over the kinds, so every kind is killed at least once.
            killed = stack.kill_random_runner(rng, kind=KINDS[len(kills) % len(KINDS)])
            if killed:
                kills.append(killed)
        stream.join()
        assert stream.error is None, stream.error
        outcome = stack.wait_delivered(poster.accepted, 60)
        kinds = {name.split("/")[0] for name in kills}
        print(f"posts {len(poster.accepted)} kills {len(kills)} ({sorted(kinds)}) "
              f"expected {outcome.expected} missing {len(outcome.missing)} "
              f"duplicates {outcome.duplicates} lmtp retries {poster.retries}")  # fmt: skip
        assert outcome.missing == []
        assert outcome.duplicates <= len(kills) * MEMBERS
        assert kinds == set(KINDS)
    finally:
        stack.stop()
        stack.sink.stop()


def test_master_and_runners_sigkilled_at_once(tmp_path: Path) -> None:
    stack = build(tmp_path, MEMBERS)
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        stream = PostStream(poster, POSTS, pause=0.02)
        stream.start()
        wait_for(lambda: len(poster.accepted) >= POSTS // 4, "posts under way before the kill")
        assert stack.process is not None
        pids = [stack.process.pid, *stack.runner_pids().values()]
        import os
        import signal

        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        stack.process.wait()
        stack.process = None
        # The poster sees refused connections meanwhile and retries, as an MTA would.
        stack.start()
        stream.join()
        assert stream.error is None, stream.error
        outcome = stack.wait_delivered(poster.accepted, 60)
        print(f"posts {len(poster.accepted)} killed {len(pids)} processes; "
              f"missing {len(outcome.missing)} duplicates {outcome.duplicates}")  # fmt: skip
        assert outcome.missing == []
        assert outcome.duplicates <= (len(pids) - 1) * MEMBERS
    finally:
        stack.stop()
        stack.sink.stop()
