"""The Switchboard satisfies ISwitchboard (checked by mypy and, shallowly, at run time)."""

from __future__ import annotations

from pathlib import Path

from posthorn.interfaces.queues import IQueueEntry, ISwitchboard
from posthorn.queues import Switchboard


def as_interface(switchboard: Switchboard) -> ISwitchboard:
    # mypy checks the structural match here; the test below only exercises it.
    return switchboard


def test_switchboard_satisfies_the_protocol(tmp_path: Path) -> None:
    with Switchboard(tmp_path / "queue" / "incoming") as switchboard:
        queue = as_interface(switchboard)
        assert isinstance(queue, ISwitchboard)
        queue.enqueue(b"Subject: hi\n\nbody\n")
        [entry] = queue.entries()
        assert isinstance(entry, IQueueEntry)
        assert entry.state == "queued"
