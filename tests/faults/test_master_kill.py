"""SIGKILL of the master while a runner is inside a slow SMTP transaction, then a new start.

The killed master's outgoing runner still holds its entry and finishes the transaction
(the parent-death SIGTERM waits for the entry in hand).  The new master must not start
a second set of runners meanwhile: a new outgoing runner would recover the entry the
old one holds and send every member a second copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.stack import Poster, Stack, build
from tests.waiting import wait_for

MEMBERS = 3
# Longer than a new master takes to start its runners, shorter than stop_timeout.
STALL = 6.0
RUNNERS = ("lmtp", "incoming", "pipeline", "outgoing")


def _settled(stack: Stack, starts: int) -> bool:
    """The new outgoing runner has started and recovered, and nothing is in flight."""
    outgoing = stack.var_dir / "queue" / "outgoing"
    return (
        stack.log("outgoing").count("started, slice") >= starts
        and not list(outgoing.glob("*.pck"))
        and not list(outgoing.glob("*.bak"))
        and stack.sink.in_data == 0
    )


@pytest.mark.parametrize("force", [False, True])
def test_a_new_master_waits_for_the_runners_of_a_killed_one(tmp_path: Path, force: bool) -> None:
    extra = {"master": {"stop_timeout": "15s"}, "runner.outgoing": {"command_timeout": "30s"}}
    stack = build(tmp_path, MEMBERS, runners=RUNNERS, extra=extra)
    try:
        stack.start()
        stack.sink.stall = STALL
        poster = Poster(stack.lmtp_port)
        mid = poster.post(1)
        wait_for(lambda: stack.sink.in_data, "the outgoing runner inside DATA", 30)
        old = stack.runner_pids()
        assert stack.process is not None
        stack.process.kill()
        stack.process.wait()
        stack.start(force=force)
        assert stack.wait_delivered([mid], 30).missing == []
        wait_for(lambda: _settled(stack, 2), "the new outgoing runner idle", 30)
        copies = {member: stack.sink.copies[(mid, member)] for member in stack.members}
        gone = [line for line in stack.log("master").splitlines() if "are gone after" in line]
        print(f"force={force}: copies per member {copies}; {gone}")
        assert set(copies.values()) == {1}
        new = stack.runner_pids()
        assert not set(new.values()) & set(old.values())
        assert all(row["restarts"] == 0 for row in stack.state()["runners"])
        assert "processes of an earlier master still run" in stack.log("master")
        assert "Traceback" not in stack.log("outgoing")
    finally:
        stack.stop()
        stack.sink.stop()
