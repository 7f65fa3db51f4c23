"""End-to-end delivery figures: posts enqueued on ``pipeline`` through a real master
to an SMTP sink on loopback.  Prints posts/s, deliveries/s and latency to the last copy
per list size, saturated (all posts at once) and paced (2 posts/s).

    .venv/bin/python bench/e2e_bench.py [--posts N] [--sizes 1,100,1000]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from posthorn.config import load_config
from posthorn.queues import Switchboard
from posthorn.site import Site
from tests.pipeline.conftest import write_site_file
from tests.processes import free_port, start_master, stop
from tests.smtpsink import SMTPSink


def make_post(list_address: str, n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "poster@example.net"
    msg["To"] = list_address
    msg["Subject"] = f"bench {n}"
    msg["Message-ID"] = f"<bench-{n}-{time.time_ns()}@example.net>"
    msg.set_content("Hello list.\n" * 20)
    return msg


def run_size(var: Path, sink: SMTPSink, size: int, posts: int, pace: float) -> None:
    address = f"l{size}@example.org"
    board = Switchboard(var / "queue" / "pipeline", name="pipeline")
    start_count = sink.delivered()
    started = time.monotonic()
    sent_at = []
    for n in range(posts):
        sent_at.append(time.monotonic())
        board.enqueue(make_post(address, n), {"list_id": address.replace("@", ".")})
        if pace:
            time.sleep(pace)
    target = start_count + size * posts
    sink.wait_for(lambda: sink.delivered() >= target, 300, "all deliveries")
    elapsed = sink.last_arrival - started
    mode = "paced" if pace else "saturated"
    latency = (sink.last_arrival - sent_at[-1]) * 1000
    print(
        f"{size:>6} members {mode:>9}: {posts} posts in {elapsed:.2f}s, "
        f"{posts / elapsed:.1f} posts/s, {size * posts / elapsed:.0f} deliveries/s, "
        f"last-post latency {latency:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--sizes", default="1,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="posthorn-bench-"))
    sink = SMTPSink(free_port())
    sink.start()
    site_file = write_site_file(tmp, sink.port)
    site = Site(load_config(site_file))
    site.databases.upgrade()
    for size in sizes:
        site.lists.create(f"l{size}@example.org")
        for n in range(size):
            site.lists.subscribe(f"l{size}@example.org", f"m{n}@d{n % 13}.example.com")
    site.close()
    process = start_master(site_file, tmp, subprocess.DEVNULL)
    try:
        time.sleep(2)
        for size in sizes:
            run_size(tmp / "var", sink, size, args.posts, 0.0)
            run_size(tmp / "var", sink, size, 10, 0.5)
    finally:
        stop(process)
        sink.stop()


if __name__ == "__main__":
    main()
