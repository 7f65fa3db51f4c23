"""Does a slow archiver change delivery?  Median post-to-last-copy latency, off vs slow.

Runs a real master (pipeline, outgoing, retry and archive runners) twice against an
in-process SMTP sink: once with no archiver, once with ``prototype`` plus an archiver
that sleeps 2 s per message.  Posts are enqueued on ``pipeline`` at a steady pace;
each post's latency is from enqueuing to its last member copy at the sink.  Prints both
medians side by side, and how long the slow archive took to catch up.

    .venv/bin/python bench/archive_isolation_bench.py [--posts N] [--members N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posthorn.queues import Switchboard
from tests.archivers.conftest import post
from tests.archivers.sample import archived
from tests.archivers.test_isolation import write_site_file
from tests.processes import free_port, start_master, stop
from tests.smtpsink import SMTPSink

SLOW = """
[archiver.prototype]
enable: yes

[archiver.slow]
class: tests.archivers.sample:Slow
enable: yes
"""


def copies_by_subject(sink: SMTPSink) -> Counter[str]:
    found: Counter[str] = Counter()
    with sink.lock:
        for _, rcpts, data in sink.received:
            for line in data.split(b"\n"):
                if line.lower().startswith(b"subject:"):
                    found[line.decode(errors="replace").split("post ")[-1].strip()] += len(rcpts)
                    break
    return found


def run(archivers: str, posts: int, members: int, pace: float) -> tuple[list[float], float]:
    """Latencies of each post, and seconds until the slow archive held every post."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        sink = SMTPSink(free_port())
        sink.start()
        addresses = [f"m{n}@example.com" for n in range(members)]
        site_file = write_site_file(tmp, sink.port, archivers, addresses)
        process = start_master(site_file, tmp, subprocess.DEVNULL)
        try:
            board = Switchboard(tmp / "var" / "queue" / "pipeline", name="pipeline")
            time.sleep(1.0)  # let the runners start before the clock runs
            sent: dict[str, float] = {}
            latencies: dict[str, float] = {}
            started = time.monotonic()
            for n in range(posts):
                sent[str(n)] = time.monotonic()
                board.enqueue(post(n), {"list_id": "dev.example.org"})
                # Watch the sink while pacing, so a latency is measured to ~5 ms.
                until = time.monotonic() + pace
                while time.monotonic() < until:
                    collect(sink, sent, latencies, members)
                    time.sleep(0.005)
            deadline = time.monotonic() + 60
            while len(latencies) < posts and time.monotonic() < deadline:
                collect(sink, sent, latencies, members)
                time.sleep(0.005)
            catch_up = float("nan")
            if archivers:
                while len(archived(tmp / "var" / "archives" / "slow")) < posts:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                catch_up = time.monotonic() - started
            return list(latencies.values()), catch_up
        finally:
            stop(process)
            sink.stop()


def collect(sink: SMTPSink, sent: dict[str, float], done: dict[str, float], members: int) -> None:
    now = time.monotonic()
    for key, count in copies_by_subject(sink).items():
        if key in sent and key not in done and count >= members:
            done[key] = now - sent[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--pace", type=float, default=0.25, help="seconds between posts")
    args = parser.parse_args()
    off, _ = run("", args.posts, args.members, args.pace)
    slow, catch_up = run(SLOW, args.posts, args.members, args.pace)
    print(f"{args.posts} posts, {args.members} members, one post every {args.pace:g}s")
    print(f"{'archiving':<28}{'off':>10}{'slow (2 s/msg)':>18}")
    print(f"{'median latency, ms':<28}{statistics.median(off) * 1000:>10.1f}"
          f"{statistics.median(slow) * 1000:>18.1f}")  # fmt: skip
    print(f"{'max latency, ms':<28}{max(off) * 1000:>10.1f}{max(slow) * 1000:>18.1f}")
    print(f"{'posts delivered':<28}{len(off):>10}{len(slow):>18}")
    print(f"slow archive complete {catch_up:.1f}s after the first post")


if __name__ == "__main__":
    main()
