"""The fork generation: a forked child sees a new one, its parent keeps its own."""

from __future__ import annotations

import os
from collections.abc import Callable

from posthorn import forks


class _Held:
    """State kept across uses, as the ledger or the post counter keeps it."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.generation = forks.generation

    def use(self, item: str) -> list[str]:
        if self.generation != forks.generation:
            self.items, self.generation = [], forks.generation
        self.items.append(item)
        return self.items


def in_child(job: Callable[[], str]) -> str:
    """What ``job`` returns when run in a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read)
            os.write(write, job().encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with os.fdopen(read) as pipe:
        return pipe.read()


def test_each_fork_moves_the_child_on_and_leaves_the_parent_alone() -> None:
    before = forks.generation
    child, grandchild = in_child(
        lambda: f"{forks.generation} {in_child(lambda: str(forks.generation))}"
    ).split()
    assert (int(child), int(grandchild)) == (before + 1, before + 2)
    assert forks.generation == before


def test_a_child_starts_afresh_and_the_parent_keeps_its_state() -> None:
    held = _Held()
    held.use("parent")

    def in_the_child() -> str:
        held.use("child")
        return ",".join(held.use("again"))

    assert in_child(in_the_child) == "child,again"
    assert held.use("later") == ["parent", "later"]
