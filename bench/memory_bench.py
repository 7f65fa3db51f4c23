"""What the running site costs in memory: in all and per runner, idle and per large post.

First (``site``) a site runs with every runner started, the master included, its MTA
a sink; the bench prints each process's PSS (shared pages split between the processes
sharing them, so the column adds up to the whole site) once every runner has started,
then again after a few posts have been through every runner (each has then done its
real work once: parsed, queried, delivered, archived, digested, answered REST) and
the site has stood idle for a few seconds, and once more when it has stood idle past
``[runner.*] max_idle`` (its default, a minute), when the queue runners that worked
have been started afresh.  The totals are the figures to hold to.  Beside each PSS,
in brackets, the process's private memory: what a runner copied of the master's.

Then (``posts``), for each size (``--sizes`` in MiB) a fresh site runs every runner a
post passes through (lmtp, incoming, pipeline, outgoing, virgin, retry, archive with the
prototype archiver, digest), its MTA a sink in its own process.  The list has three
regular members and one member of each digest kind, so the post also makes a MIME and a
plain digest.  A small post warms every runner up; then each runner's peak resident size
is reset, the large post (text and a base64 attachment of random bytes) goes in over
LMTP, and once every copy has reached the sink and every queue is empty, the bench
prints how far each runner's peak rose, in MiB and as a multiple of the post's size.
Prints figures, never pass/fail.

    .venv/bin/python bench/memory_bench.py [site] [posts] [--sizes 1 10 30] [--settle S]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchsink import BenchSink

from posthorn.config import load_config
from posthorn.queues.spares import PREFIX as SPARE
from tests.memory import MIB, RunnerMemory, large_post, site_memory, site_settings
from tests.processes import free_port, start_master, stop
from tests.sites import prepared_site, wait_for_greeting, write_site_config

LIST = "big@example.org"
RUNNING = ("lmtp", "incoming", "pipeline", "outgoing", "virgin", "retry", "archive", "digest")
# Three regular copies of the post, one MIME digest and one plain digest.
COPIES = 5
DEADLINE = 120.0


def prepare(tmp: Path, lmtp_port: int, smtp_port: int) -> Path:
    site_file = write_site_config(
        tmp, lmtp_port=lmtp_port, smtp_port=smtp_port, running=RUNNING,
        extra_sections=site_settings(),
    )  # fmt: skip
    prepare_list(site_file)
    return site_file


def prepare_list(site_file: Path) -> None:
    with prepared_site(site_file) as site:
        site.lists.create(LIST, owners=["owner@example.org"])
        site.lists.update(LIST, default_nonmember_action="accept", max_message_size=0)
        for n in range(3):
            site.lists.subscribe(LIST, f"m{n}@example.com")
        site.lists.subscribe(LIST, "mime@example.com", delivery_mode="mime_digests")
        site.lists.subscribe(LIST, "plain@example.com", delivery_mode="plaintext_digests")


def settled(sink: BenchSink, expected: int, queue_dir: Path) -> bool:
    total = sink.stats()[0]
    # A spare (``posthorn.queues.spares``) a writer took ahead of need is no entry.
    waiting = [
        p
        for p in queue_dir.rglob("*")
        if p.suffix in (".pck", ".bak", ".tmp") and not p.name.startswith(SPARE)
    ]
    return total >= expected and not waiting


def every_runner(tmp: Path) -> list[str]:
    defaults = load_config(None, overrides={"paths": {"var_dir": str(tmp / "var")}})
    return sorted(defaults.named("runner"))


def rest_get(port: int, path: str) -> int:
    auth = base64.b64encode(b"restadmin:restpass").decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Basic {auth}"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def measure_site(settle: float) -> list[dict[str, tuple[int, int]]]:
    """PSS and private memory per process once every runner has started, after a few
    posts, and after standing idle past max_idle."""
    tmp = Path(tempfile.mkdtemp(prefix="posthorn-memory-"))
    sink = BenchSink(free_port())
    lmtp_port, rest_port = free_port(), free_port()
    sections = {**site_settings(), "webservice": {"port": rest_port}}
    site_file = write_site_config(
        tmp, lmtp_port=lmtp_port, smtp_port=sink.port, running=every_runner(tmp),
        extra_sections=sections,
    )  # fmt: skip
    prepare_list(site_file)
    master = start_master(site_file, tmp, subprocess.DEVNULL)
    try:
        wait_for_greeting(master, lmtp_port, tmp / "var")
        time.sleep(settle)
        started = site_memory(master.pid, tmp / "var")
        expected = 0
        for n in range(3):
            # The first one past the digest threshold (30 KiB): digests go out too.
            post(lmtp_port, large_post(LIST, 40 * 1024 if n == 0 else 2048, f"warm{n}"))
            expected += COPIES if n == 0 else COPIES - 2
            wait(lambda count=expected: settled(sink, count, tmp / "var" / "queue"), tmp)
        for path in ("/3.1/system/versions", "/3.1/lists", f"/3.1/lists/{LIST}/roster/member"):
            rest_get(rest_port, path)
        time.sleep(settle)
        worked = site_memory(master.pid, tmp / "var")
        time.sleep(load_config(site_file)["runner.incoming"].get_float("max_idle") + settle)
        return [started, worked, site_memory(master.pid, tmp / "var")]
    finally:
        stop(master)
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def report_site(figures: list[dict[str, tuple[int, int]]]) -> None:
    """Each process's PSS, then in brackets its private memory: what it alone maps, most
    of it pages of the master's it wrote to (reference counts, the interpreter's
    specialising of the code it runs) and so copied."""
    print("PSS (private) of the site with every runner started, MiB")
    print(f"{'process':>10} {'started':>14} {'after posts':>14} {'after idle':>14}")
    for name in sorted(figures[0], key=lambda n: (n != "master", n)):
        cells = [memory.get(name, (0, 0)) for memory in figures]
        print(f"{name:>10} " + " ".join(f"{p / MIB:6.1f} ({u / MIB:5.1f})" for p, u in cells))
    totals = [[sum(x[i] for x in memory.values()) for i in (0, 1)] for memory in figures]
    print(f"{'total':>10} " + " ".join(f"{p / MIB:6.1f} ({u / MIB:5.1f})" for p, u in totals))
    print(f"processes: {len(figures[0])}")


def post(lmtp_port: int, data: bytes) -> None:
    with smtplib.LMTP("127.0.0.1", lmtp_port) as client:
        client.sendmail("poster@example.net", [LIST], data)


def measure(size_mib: int) -> tuple[dict[str, int], float]:
    """Each runner's extra peak for one post of ``size_mib``, and the seconds it took."""
    tmp = Path(tempfile.mkdtemp(prefix="posthorn-memory-"))
    sink = BenchSink(free_port())
    lmtp_port = free_port()
    site_file = prepare(tmp, lmtp_port, sink.port)
    master = start_master(site_file, tmp, subprocess.DEVNULL)
    memory = RunnerMemory(tmp / "var")
    try:
        wait_for_greeting(master, lmtp_port, tmp / "var")
        expected = COPIES
        # Past the digest threshold (30 KiB), so that it warms up the digest path too.
        post(lmtp_port, large_post(LIST, 40 * 1024, "1"))
        wait(lambda: settled(sink, expected, tmp / "var" / "queue"), tmp)
        data = large_post(LIST, size_mib * MIB, "2")
        memory.reset()
        started = time.monotonic()
        post(lmtp_port, data)
        del data
        expected += COPIES
        wait(lambda: settled(sink, expected, tmp / "var" / "queue"), tmp)
        return memory.extra(), time.monotonic() - started
    finally:
        stop(master)
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def wait(condition: Callable[[], bool], tmp: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            waiting = sorted(str(p.relative_to(tmp)) for p in (tmp / "var" / "queue").rglob("*.*"))
            raise SystemExit(f"timed out waiting for the post to go through; queued: {waiting}")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("parts", nargs="*", choices=["site", "posts"], default=["site", "posts"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 30], help="MiB")
    parser.add_argument("--settle", type=float, default=5.0, help="idle seconds before PSS")
    args = parser.parse_args()
    if "site" in args.parts:
        report_site(measure_site(args.settle))
    if "posts" in args.parts:
        report_posts(args.sizes)


def report_posts(sizes: list[int]) -> None:
    args = argparse.Namespace(sizes=sizes)
    results = {size: measure(size) for size in args.sizes}
    names = sorted({name for extra, _ in results.values() for name in extra})
    print("extra peak resident memory per runner, MiB (multiple of the post's size)")
    print(f"{'runner':>10} " + " ".join(f"{f'{size} MiB post':>18}" for size in args.sizes))
    for name in names:
        cells = []
        for size in args.sizes:
            extra = results[size][0].get(name, 0)
            cells.append(f"{extra / MIB:8.1f} ({extra / (size * MIB):4.1f}x)")
        print(f"{name:>10} " + " ".join(f"{cell:>18}" for cell in cells))
    worst = {
        size: max(extra.values(), default=0) / (size * MIB) for size, (extra, _) in results.items()
    }
    print("worst: " + ", ".join(f"{size} MiB {ratio:.1f}x" for size, ratio in worst.items()))
    print("seconds: " + ", ".join(f"{size} MiB {s:.1f}" for size, (_, s) in results.items()))


if __name__ == "__main__":
    main()
