"""What the outgoing runner's per-post delivery record costs, per post.

    python bench/delivery_record_bench.py [--posts N] [--dir DIR]

For each post the runner opens (and locks) the post's record, reads it, appends the
recipients of each finished batch, and closes it; a post that leaves for ``dead`` or
``shunt`` also fsyncs it.  Measured at 1 and 1,000 members, bulk (batches of 500) and
per member (personalized or VERP: one append per member), and for a redone entry that
reads a full record and sends nothing.  Prints figures only.  Without --dir it works in
a fresh temporary directory on the system temp dir's file system.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from posthorn.delivery.progress import DeliveryRecord

LIST_ID = "bench.example.org"


def _one_post(directory: Path, n: int, members: list[str], batch: int, sync: bool) -> float:
    started = time.perf_counter()
    with DeliveryRecord(directory, LIST_ID, "list", f"<bench-{n}@example.net>") as record:
        todo = [a for a in members if a not in record.done]
        for start in range(0, len(todo), batch):
            record.record(todo[start : start + batch])
        if sync:
            record.sync()
    return time.perf_counter() - started


def _redo(directory: Path, n: int, members: list[str]) -> float:
    started = time.perf_counter()
    with DeliveryRecord(directory, LIST_ID, "list", f"<bench-{n}@example.net>") as record:
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
        for count in (1, 1000):
            members = [f"m{i:05d}@d{i % 7}.example.com" for i in range(count)]
            cases = [("bulk (batches of 500)", 500, False), ("per member", 1, False)]
            cases.append(("bulk, fsynced (to dead/shunt)", 500, True))
            for label, batch, sync in cases:
                directory = root / f"{count}-{batch}-{sync}"
                times = [_one_post(directory, n, members, batch, sync) for n in range(args.posts)]
                _report(f"{count:>5} members, {label}", times)
            redo = [_redo(root / f"{count}-500-False", n, members) for n in range(args.posts)]
            _report(f"{count:>5} members, redone entry (all done)", redo)
    finally:
        shutil.rmtree(root)


def _report(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(f"{label:<48} {statistics.median(ms):8.3f} ms  {p95:8.3f} ms")


if __name__ == "__main__":
    main()
