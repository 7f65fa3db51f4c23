"""The outgoing runner alone: its CPU per post and its time per post, against a sink.

A site on SQLite with a list of each size (members ``m0001@example.org``...); the
neutral harness's aiosmtpd sink (``../shared/bench/e2e.py``, loaded by
``bench/neutral_e2e.py``) runs in a child process, with or without PIPELINING.  For each
size, ``-n`` posts of the harness's shape (2 KB of plain text) are put on the outgoing
queue and one ``OutgoingRunner`` in this process drains them, one at a time as in a
running site; the bench prints the runner's CPU (every thread of this process) and wall
time per post, the sink's CPU per post (its process, every thread) and its count of
copies.  The rest of the site is not running, so the figure is the outgoing runner's
share without the noise of the others.  ``--set max_recipients=N`` splits a post into
batches sent over the runner's ``connections`` at once: what that costs the runner and
the sink, and what it saves in time.

    .venv/bin/python bench/outgoing_bench.py [--sizes 1,100,1000] [-n 40] [--pipelining]
        [--profile FILE] [--set KEY=VALUE]
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from email import message_from_bytes
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from neutral_e2e import HARNESS, load, pipelining

from posthorn.config import load_config
from posthorn.messages.folding import CACHED_COMPAT32
from posthorn.runners.outgoing import OutgoingRunner
from posthorn.site import Site
from tests.processes import free_port
from tests.rosters import add_members


def member(n: int) -> str:
    return f"m{n:04d}@example.org"


def sink(port: int, pipelined: bool, control: Connection) -> None:
    """The harness's sink until told to stop; answers each request with its count of
    copies and the CPU seconds its process used so far."""
    harness = load(HARNESS)
    if pipelined:
        pipelining(harness)
    controller, recorder = harness.start_sink("127.0.0.1", port)
    control.send(0)
    try:
        while control.recv() is not None:
            control.send((recorder.count(), time.process_time()))
    finally:
        controller.stop()


def post(harness_module: object, n: int, list_address: str) -> bytes:
    _, data = harness_module.make_message("bench", n, list_address, member(1), 2000)  # type: ignore[attr-defined]
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("-n", type=int, default=40)
    parser.add_argument("--pipelining", action="store_true")
    parser.add_argument("--profile", default=None)
    parser.add_argument("--set", action="append", default=[], help="runner.outgoing KEY=VALUE")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="posthorn-outgoing-"))
    port = free_port()
    control, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=sink, args=(port, args.pipelining, theirs))
    child.start()
    control.recv()
    extra = "".join(f"{item.split('=', 1)[0]}: {item.split('=', 1)[1]}\n" for item in args.set)
    site_file = tmp / "posthorn.cfg"
    site_file.write_text(
        f"[paths]\nvar_dir: {tmp / 'var'}\n\n[mta]\nsmtp_port: {port}\n\n[runner.outgoing]\n{extra}"
    )
    harness = load(HARNESS)
    try:
        site = Site(load_config(site_file))
        site.databases.upgrade()
        for size in sizes:
            site.lists.create(f"b{size}@example.org")
            add_members(site, f"b{size}.example.org", [member(n) for n in range(1, size + 1)])
        runner = OutgoingRunner(site, "outgoing")
        profile = cProfile.Profile(time.process_time) if args.profile else None
        for size in sizes:
            address = f"b{size}@example.org"
            posts = max(5, min(args.n, args.n * 1000 // size))
            for n in range(posts + 1):
                msg = message_from_bytes(post(harness, n, address), policy=CACHED_COMPAT32)
                runner.switchboard.enqueue(msg, {"list_id": address.replace("@", ".")})
                if n == 0:
                    runner.run_once()  # warm: connections, caches
            control.send(0)
            before_count, sink_before = control.recv()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            if profile:
                profile.enable()
            runner.run_once()
            if profile:
                profile.disable()
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
            time.sleep(0.5)
            control.send(0)
            after_count, sink_after = control.recv()
            copies = after_count - before_count
            sink_cpu = sink_after - sink_before
            print(
                f"{size:>6} members: {posts} posts, outgoing cpu {cpu * 1000 / posts:7.2f} ms/post "
                f"({cpu * 1e6 / posts / size:6.1f} us/recipient), wall {wall * 1000 / posts:7.2f}"
                f" ms/post, sink cpu {sink_cpu * 1000 / posts:7.2f} ms/post,"
                f" copies {copies}/{posts * size}",
                flush=True,
            )
        runner.close()
        site.close()
        if profile:
            profile.dump_stats(args.profile)
    finally:
        control.send(None)
        child.join(10)
        if child.is_alive():
            child.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
