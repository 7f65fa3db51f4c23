"""What an import did, or would do: counts per kind, and the changes for a dry run.

Every step of ``apply`` compares what the old site has with what Posthorn has and
reports each thing as created, changed or unchanged here; a dry run prints each
creation and change as it is found instead of writing it.  The summary table at the
end comes from the same counts, so a dry run and a real run report alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Echo", "Progress", "Tally"]

Echo = Callable[[str], None]
Progress = Callable[[int], None]

# The order of the summary table's rows.
KINDS = (
    "domains",
    "domain owners",
    "users",
    "addresses",
    "lists",
    "members",
    "bounce scores",
    "pending requests",
    "held messages",
    "bans",
    "header matches",
    "templates",
)


# How one thing of each kind is called in a dry run's lines.
_SINGULAR = {
    "addresses": "address",
    "bounce scores": "bounce score",
    "domain owners": "domain owner",
}


def _noun(kind: str) -> str:
    return _SINGULAR.get(kind, kind[:-1] if kind.endswith("s") else kind)


def _quiet(_: str) -> None:
    """Say nothing: a real run reports only its summary."""


def _no_progress(_: int) -> None:
    """No progress bar (standard output is not a terminal)."""


@dataclass
class Tally:
    dry_run: bool = False
    echo: Echo = _quiet
    progress: Progress = _no_progress
    counts: dict[str, list[int]] = field(default_factory=dict)
    # Things the old site has that could not be brought over, for the report.
    problems: list[str] = field(default_factory=list)

    def _count(self, kind: str, index: int, number: int = 1) -> None:
        self.counts.setdefault(kind, [0, 0, 0])[index] += number

    def created(self, kind: str, what: str) -> None:
        self._count(kind, 0)
        if self.dry_run:
            self.echo(f"would create {_noun(kind)}: {what}")

    def changed(self, kind: str, what: str, detail: str = "") -> None:
        self._count(kind, 1)
        if self.dry_run:
            self.echo(f"would change {_noun(kind)}: {what}" + (f" ({detail})" if detail else ""))

    def unchanged(self, kind: str, number: int = 1) -> None:
        self._count(kind, 2, number)

    def total(self, index: int) -> int:
        return sum(counts[index] for counts in self.counts.values())

    @property
    def writes(self) -> int:
        """How many things were (or would be) created or changed."""
        return self.total(0) + self.total(1)

    def table(self) -> str:
        """The summary: one row per kind that occurred, in a fixed order."""
        rows = [(kind, *self.counts[kind]) for kind in KINDS if kind in self.counts]
        rows += [(kind, *c) for kind, c in sorted(self.counts.items()) if kind not in KINDS]
        verb = ("would create", "would change") if self.dry_run else ("created", "changed")
        header = ("", *verb, "unchanged")
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
        lines = [
            "  ".join(
                str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
                for i, cell in enumerate(row)
            )
            for row in [header, *rows]
        ]
        return "\n".join(line.rstrip() for line in lines)
