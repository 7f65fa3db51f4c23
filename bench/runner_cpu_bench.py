"""CPU per post of the incoming and pipeline runners, in one process, without the site.

The neutral harness (``bench/neutral_bench.py``) counts every process of a running site
and so every figure there carries the machine's load; this bench puts the harness's own
post shape (2 KB of plain text from a list member, CRLF line ends) on queue
``incoming`` of a private site, drains the incoming runner, then the pipeline runner,
and prints the CPU (user and system, ``getrusage``) each took per post, the least of
``--rounds`` rounds (the least is the one the machine's load disturbed least).  ``--profile FILE``
writes cProfile statistics of both drains.

    .venv/bin/python bench/runner_cpu_bench.py [-n 200] [--rounds 3] [--members 1] [--size 2048]
        [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import resource
import sys
import tempfile
import time
from email.utils import formatdate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posthorn.config import load_config
from posthorn.runners.incoming import IncomingRunner
from posthorn.runners.pipeline import PipelineRunner
from posthorn.site import Site
from tests.waiting import drain

LIST = "bench@example.org"


def post(index: int, size: int = 2048) -> bytes:
    """A post shaped like the neutral harness's (``make_message`` there)."""
    body = f"Benchmark message {index} of run r.\r\n"
    while len(body) < size:
        body += "lorem ipsum dolor sit amet consectetur adipiscing elit\r\n"
    return (
        f"From: m0001@example.org\r\nTo: {LIST}\r\nSubject: bench r {index}\r\n"
        f"Date: {formatdate()}\r\nMessage-ID: <bench-r-{index:06d}@bench.example.org>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: text/plain; charset="us-ascii"\r\n'
        f"Content-Transfer-Encoding: 7bit\r\n\r\n{body}"
    ).encode("ascii")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="posts (default 200)")
    parser.add_argument("--members", type=int, default=1, help="list members (default 1)")
    parser.add_argument("--size", type=int, default=2048, help="body bytes (default 2048)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the least is printed")
    parser.add_argument("--profile", metavar="FILE", help="write cProfile statistics here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="runner-cpu-") as tmp:
        overrides = {"paths": {"var_dir": str(Path(tmp) / "var")}}
        site = Site(load_config(None, overrides=overrides))
        site.databases.upgrade()
        site.lists.create(LIST)
        for n in range(1, args.members + 1):
            site.lists.subscribe(LIST, f"m{n:04d}@example.org")
        incoming = IncomingRunner(site, "incoming")
        pipeline = PipelineRunner(site, "pipeline")
        # One post through both first, so that caches and lazy imports are warm.
        queue = incoming.queue("incoming")
        meta = {"list_id": "bench.example.org", "to_list": True}
        sender = {"envelope_sender": "m0001@example.org"}

        def fill(count: int, start: int) -> None:
            for index in range(start, start + count):
                data = post(index, args.size)
                queue.enqueue(data, {**meta, **sender, "original_size": len(data)})

        fill(1, 0)
        drain(incoming)
        drain(pipeline)
        # As the master does before forking runners (runners/process.py): what start-up
        # made is left out of the collector's later passes.
        gc.collect()
        gc.freeze()
        # Timed by CPU, not the clock: waiting for the disk is not what is measured.
        profile = cProfile.Profile(time.process_time) if args.profile else None
        figures: dict[str, tuple[float, float]] = {}
        for round in range(args.rounds):
            fill(args.n, 1 + round * args.n)
            for name, runner in (("incoming", incoming), ("pipeline", pipeline)):
                if profile is not None:
                    profile.enable()
                began = resource.getrusage(resource.RUSAGE_SELF)
                handled = drain(runner)
                ended = resource.getrusage(resource.RUSAGE_SELF)
                per_post = 1000 / max(handled, 1)
                user = (ended.ru_utime - began.ru_utime) * per_post
                system = (ended.ru_stime - began.ru_stime) * per_post
                if name not in figures or user + system < sum(figures[name]):
                    figures[name] = (user, system)
                if profile is not None:
                    profile.disable()
        if profile is not None:
            profile.dump_stats(args.profile)
        incoming.close()
        pipeline.close()
        site.close()
    parts = " ".join(f"{name} {u + s:.2f} (user {u:.2f} sys {s:.2f})"
                     for name, (u, s) in figures.items())  # fmt: skip
    total = sum(u + s for u, s in figures.values())
    head = f"{args.members} members, {args.n} posts of {args.size} bytes"
    print(f"{head}: cpu ms/post {parts}, sum {total:.2f}")


if __name__ == "__main__":
    main()
