"""The fork generation: a forked child sees a new one, its parent keeps its own."""

from __future__ import annotations

from posthorn import forks
from tests.processes import in_child


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
