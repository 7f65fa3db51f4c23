"""Queue benchmark: enqueue/dequeue rates, message form per hop, cross-process wake-up.

    python bench/queue_bench.py [--count N] [--samples N] [--dir DIR]

Prints figures only; it never passes or fails on time.  Without --dir it works in a
fresh temporary directory (on the same file system as the system temp dir, which
matters: fsync cost is a property of the disk).
"""

from __future__ import annotations

import argparse
import email
import os
import pickle
import shutil
import statistics
import tempfile
import time
import timeit
from collections.abc import Callable
from email.message import EmailMessage, Message
from email.policy import Policy, compat32
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path

from posthorn.queues import Switchboard
from posthorn.queues.entry import PICKLE_PROTOCOL

HEADERS = [
    ("Received", "from mail.example.org (mail.example.org [192.0.2.1]) by lists.example.org"),
    ("Received", "from [198.51.100.7] by mail.example.org with ESMTPSA id 4Xyz"),
    (
        "DKIM-Signature",
        "v=1; a=rsa-sha256; d=example.org; s=s1; bh=" + "A" * 44 + "; b=" + "B" * 340,
    ),
    ("From", "Anne Example <anne@example.org>"),
    ("To", "test@lists.example.org"),
    ("Subject", "Re: [Test] a thread about queue formats and their costs"),
    ("Message-ID", "<20240101120000.12345@example.org>"),
    ("Date", "Mon, 01 Jan 2024 12:00:00 +0000"),
]
LINE = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n"


def text_message() -> bytes:
    """A typical list post: a few headers, about 5 KB of plain text."""
    msg = EmailMessage()
    for name, value in HEADERS:
        msg[name] = value
    msg.set_content(LINE * 55)
    return msg.as_bytes()


def multipart_message() -> bytes:
    """A post with a 128 KB attachment (about 180 KB on the wire)."""
    msg = EmailMessage()
    for name, value in HEADERS:
        msg[name] = value
    msg.set_content(LINE * 20)
    msg.add_attachment(os.urandom(128 * 1024), maintype="application", subtype="pdf")
    return msg.as_bytes()


def per_op(function: Callable[[], object], number: int) -> float:
    """Seconds per call: the best of five runs, so noise from elsewhere counts least."""
    return min(timeit.repeat(function, number=number, repeat=5)) / number


def rate(label: str, done: int, seconds: float) -> None:
    print(f"  {label:<44} {done / seconds:>10,.0f} entries/s  ({seconds / done * 1e3:.3f} ms each)")


def bench_rates(root: Path, count: int) -> None:
    print(f"Rates ({count} entries of {len(text_message())} bytes, fsync on):")
    queue = Switchboard(root / "rates")
    data = text_message()
    started = time.perf_counter()
    for _ in range(count):
        queue.enqueue(data, {"listid": "test.example.org"})
    rate("enqueue (durable, one at a time)", count, time.perf_counter() - started)

    started = time.perf_counter()
    for filebase in queue.files:
        queue.dequeue(filebase)
        queue.finish(filebase)
    rate("dequeue (parsed) + finish", count, time.perf_counter() - started)

    for batch in (8, 64):
        started = time.perf_counter()
        for _ in range(count // batch):
            queue.enqueue_many([(data, {"listid": "test.example.org"})] * batch)
        rate(
            f"enqueue_many, batches of {batch}",
            count // batch * batch,
            time.perf_counter() - started,
        )

    started = time.perf_counter()
    waiting = queue.files
    for filebase in waiting:
        queue.dequeue_raw(filebase)
        queue.finish(filebase)
    rate("dequeue_raw (bytes) + finish", len(waiting), time.perf_counter() - started)


def bench_forms() -> None:
    print("Message form, per hop (store on one side, load on the other):")
    for label, raw in (("text", text_message()), ("multipart", multipart_message())):
        parsed = email.message_from_bytes(raw, policy=compat32)
        generate_policy = compat32.clone(max_line_length=0)
        number = 2000 if len(raw) < 20_000 else 100
        as_bytes = pickle.dumps(parsed.as_bytes(policy=generate_policy), protocol=PICKLE_PROTOCOL)
        as_object = pickle.dumps(parsed, protocol=PICKLE_PROTOCOL)

        def store_bytes(msg: Message = parsed, policy: Policy[Message] = generate_policy) -> bytes:
            return pickle.dumps(msg.as_bytes(policy=policy), protocol=PICKLE_PROTOCOL)

        def load_bytes(blob: bytes = as_bytes) -> Message:
            data = pickle.loads(blob)
            assert isinstance(data, bytes)
            return email.message_from_bytes(data, policy=compat32)

        def store_object(msg: Message = parsed) -> bytes:
            return pickle.dumps(msg, protocol=PICKLE_PROTOCOL)

        def load_object(blob: bytes = as_object) -> object:
            return pickle.loads(blob)

        store_b, load_b = per_op(store_bytes, number), per_op(load_bytes, number)
        store_o, load_o = per_op(store_object, number), per_op(load_object, number)
        print(f"  {label} message, {len(raw):,} bytes on the wire")
        print(
            f"    bytes, re-parsed:  {len(as_bytes):>9,} B stored  generate+pickle "
            f"{store_b * 1e6:8.1f} us  unpickle+parse {load_b * 1e6:8.1f} us  "
            f"hop {(store_b + load_b) * 1e6:8.1f} us"
        )
        print(
            f"    pickled Message:   {len(as_object):>9,} B stored  pickle          "
            f"{store_o * 1e6:8.1f} us  unpickle       {load_o * 1e6:8.1f} us  "
            f"hop {(store_o + load_o) * 1e6:8.1f} us"
        )


def wake_reader(queue_dir: str, conn: Connection) -> None:
    """In its own process: wait for each entry, report when it woke, take the entry."""
    with Switchboard(queue_dir) as queue:
        queue.wait(0)
        conn.send("ready")
        while True:
            # The connection doubles as the stop descriptor: a message on it ends a wait.
            if not queue.wait(10.0, stop_fd=conn.fileno()):
                if conn.poll():
                    return
                continue
            woke = time.monotonic_ns()
            for filebase in queue.files:
                queue.dequeue_raw(filebase)
                queue.finish(filebase)
            conn.send(woke)


def bench_wakeup(root: Path, samples: int) -> None:
    print(f"Wake-up latency, enqueue in one process -> reader in another ({samples} samples):")
    queue = Switchboard(root / "wakeup")
    data = text_message()
    ours, theirs = get_context("spawn").Pipe()
    reader = get_context("spawn").Process(target=wake_reader, args=(str(queue.queue_dir), theirs))
    reader.start()
    assert ours.recv() == "ready"
    from_call, from_return = [], []
    for _ in range(samples):
        before = time.monotonic_ns()
        queue.enqueue(data)
        after = time.monotonic_ns()
        woke = ours.recv()
        from_call.append((woke - before) / 1e6)
        from_return.append((woke - after) / 1e6)
    ours.send("stop")
    reader.join(timeout=10)
    for label, values in (("from the enqueue call", from_call), ("from its return", from_return)):
        cuts = statistics.quantiles(values, n=20)
        print(
            f"  {label:<22} median {statistics.median(values):7.3f} ms   "
            f"p95 {cuts[18]:7.3f} ms   max {max(values):7.3f} ms"
        )
    print("  (the reader wakes on the rename, while the writer is still fsyncing the directory)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="entries for the rate tests")
    parser.add_argument("--samples", type=int, default=200, help="wake-up samples")
    parser.add_argument("--dir", type=Path, help="work here instead of a temporary directory")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="queue-bench-"))
    try:
        bench_rates(root, args.count)
        bench_forms()
        bench_wakeup(root, args.samples)
    finally:
        if args.dir is None:
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
