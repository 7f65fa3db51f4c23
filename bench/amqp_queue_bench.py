"""The two queue backends side by side: a confirmed enqueue, and a dequeue plus finish.

    python bench/amqp_queue_bench.py [--count N] [--size BYTES] [--url URL]

One process enqueues ``count`` entries of ``size`` bytes one at a time (each durable
before the next: fsynced file, or broker confirm), then reads them back one at a time
(claim, load, finish).  The amqp side needs the broker at ``--url`` and uses a queue
prefix of its own, deleted afterwards.  Prints figures only; nothing passes or fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posthorn.interfaces.queues import IQueueStore
from posthorn.queues.amqp_store import AmqpStore
from posthorn.queues.store import FileStore
from tests.broker import delete_prefix


def message(size: int) -> bytes:
    head = b"From: a@example.org\r\nSubject: bench\r\nMessage-ID: <b@example.org>\r\n\r\n"
    line = b"x" * 76 + b"\r\n"
    return head + line * max(size // len(line), 1)


def run(store: IQueueStore, count: int, size: int) -> tuple[list[float], list[float]]:
    data = message(size)
    writer = store.open("incoming")
    enqueue = []
    for n in range(count):
        start = time.perf_counter()
        writer.enqueue(data, {"n": n, "list_id": "bench.example.org"})
        enqueue.append(time.perf_counter() - start)
    reader = store.open("incoming", prefetch=1)
    finish = []
    while len(finish) < count:
        start = time.perf_counter()
        if not reader.get_files():
            reader.wait(5)
        filebase = reader.get_files()[0]
        reader.dequeue_raw(filebase)
        reader.finish(filebase)
        finish.append(time.perf_counter() - start)
    reader.close()
    writer.close()
    return enqueue, finish


def show(name: str, enqueue: list[float], finish: list[float]) -> None:
    def ms(values: list[float], q: int) -> str:
        return f"{statistics.quantiles(values, n=100)[q - 1] * 1000:.2f}"

    print(f"{name:6} enqueue p50 {ms(enqueue, 50)} ms  p99 {ms(enqueue, 99)} ms   "
          f"dequeue+finish p50 {ms(finish, 50)} ms  p99 {ms(finish, 99)} ms  "
          f"({len(enqueue) / sum(enqueue):.0f} enqueues/s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/")
    args = parser.parse_args()
    print(f"{args.count} entries of {args.size} bytes, one at a time")
    with tempfile.TemporaryDirectory() as folder:
        show("files", *run(FileStore(Path(folder)), args.count, args.size))
    prefix = f"posthorn-bench-{uuid.uuid4().hex[:8]}"
    store = AmqpStore(args.url, prefix=prefix)
    try:
        show("amqp", *run(store, args.count, args.size))
    finally:
        store.close()
        delete_prefix(prefix)


if __name__ == "__main__":
    main()
