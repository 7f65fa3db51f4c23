"""The MTA misbehaving for a while: 451 or 421 at MAIL, connections closed mid-DATA, down.

Each lasts a few seconds with retries set short (``retry_base: 200ms``); once the MTA
recovers every accepted post reaches every member.  A connection closed after DATA
was sent may already have been delivered on a real MTA, so a duplicate there is allowed
by the contract; our sink records nothing for a dropped DATA, so none is expected.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.faults.stack import Poster, build

POSTS = 10
FAULT_SECONDS = 3.0


@pytest.mark.parametrize("mode", ["451", "421", "drop", "down"])
def test_mta_failure_then_recovery(tmp_path: Path, mode: str) -> None:
    stack = build(tmp_path, 3)
    try:
        stack.start()
        if mode == "down":
            stack.sink.stop()
        else:
            stack.sink.mode = mode
        poster = Poster(stack.lmtp_port)
        for n in range(POSTS):
            poster.post(n)
        time.sleep(FAULT_SECONDS)  # the outage lasting a while is the scenario
        assert stack.outcome(poster.accepted).missing, "the fault let mail through"
        if mode == "down":
            stack.sink.start()
        else:
            stack.sink.mode = "ok"
        outcome = stack.wait_delivered(poster.accepted, 30)
        print(f"MTA {mode}: expected {outcome.expected} missing {len(outcome.missing)} "
              f"duplicates {outcome.duplicates}")  # fmt: skip
        assert outcome.missing == []
        assert outcome.duplicates == 0
    finally:
        stack.stop()
        stack.sink.stop()
