"""Queue client processes for the tests: each sub-command is one role a runner plays.

Run as a script (``python queue_worker.py ROLE ...``) so every test talks to a real,
separate process that can be killed like a real runner.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from posthorn.queues import BadEntry, EntryGone, Switchboard


def drain(args: argparse.Namespace) -> None:
    """Process this slice until the stop file exists and the slice is empty."""
    stop = Path(args.stop)
    with (
        Switchboard(args.dir, slice=args.slice, count=args.count) as queue,
        open(args.out, "a", encoding="ascii") as out,
    ):
        while True:
            files = queue.files
            for filebase in files:
                try:
                    queue.dequeue_raw(filebase)
                except (BadEntry, EntryGone):
                    continue
                out.write(filebase + "\n")
                out.flush()
                queue.finish(filebase)
            if not files:
                if stop.exists() and not queue.files:
                    return
                queue.wait(0.2)


def claim(args: argparse.Namespace) -> None:
    """Claim the oldest entry, say so, then hang until killed (a reader mid-entry)."""
    queue = Switchboard(args.dir)
    filebase = queue.files[0]
    queue.dequeue(filebase)
    print("claimed", filebase, flush=True)
    sys.stdin.read()


def enqueue_loop(args: argparse.Namespace) -> None:
    """Enqueue entries of a known size until killed."""
    queue = Switchboard(args.dir)
    body = b"Subject: crash test\n\n" + b"x" * args.size
    queue.enqueue(body, {"size": len(body)})
    print("ready", flush=True)
    while True:
        queue.enqueue(body, {"size": len(body)})


def wait(args: argparse.Namespace) -> None:
    """Wait for an entry; report the outcome and when it came (monotonic ns)."""
    with Switchboard(args.dir, slice=args.slice, count=args.count) as queue:
        # The first call sets up the watch, so nothing enqueued after "waiting" is missed.
        queue.wait(0)
        print("waiting", flush=True)
        woke = queue.wait(args.timeout)
        print(woke, time.monotonic_ns(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    roles = parser.add_subparsers(dest="role", required=True)
    for name, function in (
        ("drain", drain),
        ("claim", claim),
        ("enqueue-loop", enqueue_loop),
        ("wait", wait),
    ):
        role = roles.add_parser(name)
        role.set_defaults(function=function)
        role.add_argument("--dir", required=True)
        role.add_argument("--slice", type=int, default=0)
        role.add_argument("--count", type=int, default=1)
        role.add_argument("--out")
        role.add_argument("--stop")
        role.add_argument("--size", type=int, default=1000)
        role.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    args.function(args)


if __name__ == "__main__":
    main()
