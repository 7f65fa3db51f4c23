"""``posthorn queue``: list entries and delete, hold, release or re-queue them by id."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from posthorn.site import Site

Invoke = Callable[..., Result]
LIST = "dev@example.org"


def post(number: int) -> str:
    return f"From: a@example.com\nSubject: {number}\nMessage-ID: <m{number}@example.com>\n\nx\n"


def inject(invoke: Invoke, number: int) -> str:
    result = invoke("inject", LIST, input=post(number))
    assert result.exit_code == 0, result.output
    return result.output.split()[1]


def where(root: Path, entry: str) -> list[str]:
    return sorted(p.parent.name for p in root.glob(f"*/{entry}.*"))


def test_list_hold_release_requeue_delete(cli_site: Site, invoke: Invoke) -> None:
    cli_site.lists.create(LIST)
    root = cli_site.config.path("queue_dir")
    first, second = inject(invoke, 1), inject(invoke, 2)

    listing = invoke("queue", "list")
    assert listing.exit_code == 0, listing.output
    header, *rows = listing.output.splitlines()
    assert header == "id\tqueue\tstate\tage\tsize\tlist_id\tmessage_id"
    assert [row.split("\t")[0] for row in rows] == [first, second]
    fields = rows[0].split("\t")
    assert fields[1:3] == ["incoming", "queued"] and fields[5:] == [
        "dev.example.org",
        "<m1@example.com>",
    ]
    assert int(fields[4]) > len(post(1))

    held = invoke("queue", "hold", first)
    assert held.output == f"{first}: held (was in incoming)\n"
    assert where(root, first) == ["hold"]
    counts = {r["queue"]: r["queued"] for r in json.loads(invoke("queues", "--json").output)}
    assert counts["hold"] == 1 and counts["incoming"] == 1
    again = invoke("queue", "hold", first)
    assert again.exit_code == 1 and "already held" in again.output

    released = invoke("queue", "release", first)
    assert released.output == f"{first}: released to incoming\n"
    assert where(root, first) == ["incoming"]

    moved = invoke("queue", "requeue", "--to", "shunt", first)
    assert moved.output == f"{first}: requeued from incoming to shunt\n"
    shunted = json.loads(invoke("queue", "list", "--json", "shunt").output)
    assert [row["id"] for row in shunted] == [first]
    back = invoke("queue", "requeue", first)
    assert back.output == f"{first}: requeued from shunt to incoming\n"
    assert where(root, first) == ["incoming"]

    # An entry a runner has claimed is in hand: refused until it is done.
    (root / "incoming" / f"{second}.pck").rename(root / "incoming" / f"{second}.bak")
    busy = invoke("queue", "delete", second)
    assert busy.exit_code == 1 and "being processed in incoming" in busy.output
    (root / "incoming" / f"{second}.bak").rename(root / "incoming" / f"{second}.pck")

    deleted = invoke("queue", "delete", second, "nosuchentry")
    assert deleted.exit_code == 1
    assert f"{second}: deleted from incoming" in deleted.output
    assert "nosuchentry: no entry nosuchentry in any queue" in deleted.output
    assert where(root, second) == []
