"""What the outgoing runner's per-post delivery record costs, per post.

    python bench/delivery_record_bench.py [--posts N] [--dir DIR]

For each post the runner opens (and locks) the post's record, reads it, writes the
recipients of each finished batch, and closes it; a post that leaves for ``dead`` or
``shunt`` also fsyncs it.  Measured for the ledger a site on SQLite keeps them in
(``delivery.ledger``) and for the file per post it kept before (``delivery.progress``),
at 1 and 1,000 members, bulk (batches of 500) and per member (personalized or VERP:
one write per member), and for a redone entry that reads a full record and sends
nothing.  Prints figures only.  Without --dir it works in
a fresh temporary directory on the system temp dir's file system.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from posthorn.delivery.ledger import LedgerRecords
from posthorn.delivery.progress import FileRecords
from posthorn.interfaces.delivery import IDeliveryRecords

LIST_ID = "bench.example.org"
Records = IDeliveryRecords
# A site on SQLite keeps its records in the ledger; a file per post is how it did before.
STORES: dict[str, Callable[[Path], Records]] = {"ledger": LedgerRecords, "files": FileRecords}


def _one_post(records: Records, n: int, members: list[str], batch: int, sync: bool) -> float:
    started = time.perf_counter()
    with records.open(LIST_ID, "list", f"<bench-{n}@example.net>") as record:
        todo = [a for a in members if a not in record.done]
        for start in range(0, len(todo), batch):
            record.record(todo[start : start + batch])
        if sync:
            record.sync()
    return time.perf_counter() - started


def _redo(records: Records, n: int, members: list[str]) -> float:
    started = time.perf_counter()
    with records.open(LIST_ID, "list", f"<bench-{n}@example.net>") as record:
        todo = [a for a in members if a not in record.done]
    assert not todo
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="record-bench-", dir=args.dir))
    try:
        print(f"{args.posts} posts each, in {root}; milliseconds per post (median, p95)")
        for kind, store in STORES.items():
            for count in (1, 1000):
                members = [f"m{i:05d}@d{i % 7}.example.com" for i in range(count)]
                cases = [("bulk (batches of 500)", 500, False), ("per member", 1, False)]
                cases.append(("bulk, fsynced (to dead/shunt)", 500, True))
                for label, batch, sync in cases:
                    records = store(root / kind / f"{count}-{batch}-{sync}")
                    times = [_one_post(records, n, members, batch, sync) for n in range(args.posts)]
                    _report(f"{kind:>6} {count:>5} members, {label}", times)
                records = store(root / kind / f"{count}-500-False")
                redo = [_redo(records, n, members) for n in range(args.posts)]
                _report(f"{kind:>6} {count:>5} members, redone entry (all done)", redo)
    finally:
        shutil.rmtree(root)


def _report(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(f"{label:<48} {statistics.median(ms):8.3f} ms  {p95:8.3f} ms")


if __name__ == "__main__":
    main()
