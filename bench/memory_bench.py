"""How much memory one large post costs each runner, as a multiple of the post's size.

For each size (``--sizes`` in MiB) a fresh site runs every runner a post passes through
(lmtp, incoming, pipeline, outgoing, virgin, retry, archive with the prototype archiver,
digest), its MTA a sink in its own process.  The list has three regular members and one
member of each digest kind, so the post also makes a MIME and a plain digest.  A small
post warms every runner up; then each runner's peak resident size is reset, the large
post (text and a base64 attachment of random bytes) goes in over LMTP, and once every
copy has reached the sink and every queue is empty, the bench prints how far each
runner's peak rose, in MiB and as a multiple of the post's size.  Prints figures,
never pass/fail.

    .venv/bin/python bench/memory_bench.py [--sizes 1 10 30]
"""

from __future__ import annotations

import argparse
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

from tests.memory import MIB, RunnerMemory, large_post, site_settings
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
    with prepared_site(site_file) as site:
        site.lists.create(LIST, owners=["owner@example.org"])
        site.lists.update(LIST, default_nonmember_action="accept", max_message_size=0)
        for n in range(3):
            site.lists.subscribe(LIST, f"m{n}@example.com")
        site.lists.subscribe(LIST, "mime@example.com", delivery_mode="mime_digests")
        site.lists.subscribe(LIST, "plain@example.com", delivery_mode="plaintext_digests")
    return site_file


def settled(sink: BenchSink, expected: int, queue_dir: Path) -> bool:
    total = sink.stats()[0]
    waiting = [p for p in queue_dir.rglob("*") if p.suffix in (".pck", ".bak", ".tmp")]
    return total >= expected and not waiting


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
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 30], help="MiB")
    args = parser.parse_args()
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
