"""End-to-end figures: posts over LMTP through a running master to an SMTP sink.

Posts go in over LMTP (the real lmtp and incoming runners, the posting chain, the
pipeline, outgoing) to lists of each size, saturated (all posts at once, over
``--clients`` LMTP connections) and paced (2 posts/s); the sink runs in its own
process on loopback.  Prints per list size and mode: posts/s, deliveries/s, median
and p95 latency from the LMTP 250 to the last copy at the sink, the site's CPU ms per
post (every process of the site, via psutil) and the site's peak total RSS; last,
what the sink takes on its own from a pipelining client.

    .venv/bin/python bench/e2e_bench.py [--posts N] [--sizes 1,100,1000,10000]

Its figures are lower than those of the neutral harness (``bench/neutral_bench.py``),
and both are to be reported.  Here the poster is no member (a member's post makes
avoid-duplicates read the poster's preferences: before they were cached, six queries
and half the pipeline's time), a post is some 250 bytes (there 2 KB with MIME headers,
so each parse and flatten costs more, and a digest is due every dozen posts), only the
message-path runners run (there every runner of the default site, the digest runner
included, counts), four connections share the LMTP group commit, and the sink
pipelines.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from benchsink import BenchSink, blast, free_port

from posthorn.config import load_config
from posthorn.site import Site
from tests.pipeline.conftest import write_site_file
from tests.processes import start_master, stop, wait_for_lmtp

SEQ = itertools.count()


def post(list_address: str, seq: int) -> bytes:
    lines = [
        "From: poster@example.net",
        f"To: {list_address}",
        f"Subject: bench {seq}",
        f"Message-ID: <bench-{seq}-{time.time_ns()}@example.net>",
        f"X-Bench: {seq}",
        "",
        *["Hello list." for _ in range(20)],
        "",
    ]
    return "\r\n".join(lines).encode()


class Site_:
    """The running site's processes: CPU time now, and a sampler of their memory.

    Summing RSS counts the pages forked processes share (the interpreter, imported
    modules) once per process; PSS shares them out and USS counts only each process's
    own pages, so PSS is what the site really takes.  Both are read from smaps
    (``memory_full_info``), which is slower, hence the sampling interval.
    """

    def __init__(self, master: subprocess.Popen[bytes], var_dir: Path) -> None:
        self.master = psutil.Process(master.pid)
        self.state_file = var_dir / "run" / "master.json"
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_uss = 0
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def processes(self) -> list[psutil.Process]:
        return [self.master, *self.master.children(recursive=True)]

    def cpu(self) -> float:
        return sum(self.cpu_by_process().values())

    def cpu_by_process(self) -> dict[str, float]:
        """CPU seconds so far per process of the site, keyed by runner name."""
        names = self._runner_names()
        times: dict[str, float] = {}
        for proc in self.processes():
            try:
                used = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            name = names.get(proc.pid, "master" if proc.pid == self.master.pid else "other")
            times[name] = times.get(name, 0.0) + used.user + used.system
        return times

    def _runner_names(self) -> dict[int, str]:
        with contextlib.suppress(OSError, ValueError):
            state = json.loads(self.state_file.read_text())
            return {int(r["pid"]): str(r["name"]) for r in state["runners"] if r.get("pid")}
        return {}

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            rss = pss = uss = 0
            for proc in self.processes():
                with contextlib.suppress(psutil.NoSuchProcess):
                    info = proc.memory_full_info()
                    rss, pss, uss = rss + info.rss, pss + info.pss, uss + info.uss
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_uss = max(self.peak_uss, uss)

    def memory(self) -> str:
        mib = 2**20
        return (
            f"rss {self.peak_rss / mib:4.0f} pss {self.peak_pss / mib:4.0f} "
            f"uss {self.peak_uss / mib:4.0f} MB"
        )

    def close(self) -> None:
        self._stop.set()


def send(
    lmtp_port: int, address: str, seqs: list[int], pace: float, acked: dict[int, float]
) -> None:
    with smtplib.LMTP("127.0.0.1", lmtp_port) as client:
        for seq in seqs:
            due = time.monotonic() + pace
            client.sendmail("poster@example.net", [address], post(address, seq))
            acked[seq] = time.monotonic()
            if pace:
                time.sleep(max(due - time.monotonic(), 0))


def run(args: argparse.Namespace, env: dict[str, object], size: int, pace: float) -> None:
    sink: BenchSink = env["sink"]  # type: ignore[assignment]
    site: Site_ = env["site"]  # type: ignore[assignment]
    address = f"l{size}@example.org"
    posts = max(args.paced if pace else args.posts * 100 // max(size, 100), 5)
    seqs = [next(SEQ) for _ in range(posts)]
    clients = 1 if pace else args.clients
    acked: dict[int, float] = {}
    by_process0, started = site.cpu_by_process(), time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        for n in range(clients):
            pool.submit(send, args.lmtp_port, address, seqs[n::clients], pace, acked)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        _total, copies, last = sink.stats()
        if all(copies.get(seq, 0) >= size for seq in seqs):
            break
        time.sleep(0.05)
    else:
        raise SystemExit(f"timed out: {size} members")
    elapsed = max(last[seq] for seq in seqs) - started
    by_process = site.cpu_by_process()
    spent = {n: t - by_process0.get(n, 0.0) for n, t in by_process.items()}
    cpu = sum(spent.values())
    latencies = sorted((last[seq] - acked[seq]) * 1000 for seq in seqs)
    p95 = latencies[min(int(len(latencies) * 0.95), len(latencies) - 1)]
    print(
        f"{size:>6} members {'paced' if pace else 'saturated':>9}: {posts:>4} posts "
        f"{posts / elapsed:7.1f} posts/s {size * posts / elapsed:8.0f} deliveries/s "
        f"latency median {statistics.median(latencies):7.1f} ms p95 {p95:7.1f} ms "
        f"cpu {cpu * 1000 / posts:7.1f} ms/post {site.memory()}",
        flush=True,
    )
    if args.cpu_detail:
        busiest = sorted(spent.items(), key=lambda item: -item[1])
        detail = " ".join(f"{n} {t * 1000 / posts:.1f}" for n, t in busiest if t > 0)
        print(f"{'':>16}cpu ms/post by process: {detail}", flush=True)


def prepare(
    tmp: Path,
    sink_port: int,
    sizes: list[int],
    lmtp_port: int,
    instances: int = 1,
    batch_size: int | None = None,
    pipeline_instances: int | None = None,
) -> Path:
    site_file = write_site_file(tmp, sink_port)
    text = re.sub(r"lmtp_port: \d+", f"lmtp_port: {lmtp_port}", site_file.read_text())
    for name in ("lmtp", "incoming"):
        text = text.replace(f"[runner.{name}]\nstart: no", f"[runner.{name}]\nstart: yes")
    pipeline = ""
    if instances > 1:
        # The slowest stages of a small post, each given more than one process.
        text = text.replace("[runner.incoming]\n", f"[runner.incoming]\ninstances: {instances}\n")
        pipeline += f"instances: {instances}\n"
    elif pipeline_instances is not None and pipeline_instances > 1:
        pipeline += f"instances: {pipeline_instances}\n"
    if batch_size is not None:
        for name in ("incoming", "outgoing"):
            text = text.replace(
                f"[runner.{name}]\n", f"[runner.{name}]\nbatch_size: {batch_size}\n"
            )
        pipeline += f"batch_size: {batch_size}\n"
    if pipeline:
        text += f"\n[runner.pipeline]\n{pipeline}"
    site_file.write_text(text)
    site = Site(load_config(site_file))
    site.databases.upgrade()
    for size in sizes:
        name = f"l{size}@example.org"
        site.lists.create(name)
        site.lists.update(name, default_nonmember_action="accept")
        for n in range(size):
            site.lists.subscribe(name, f"m{n}@d{n % 13}.example.com")
    site.close()
    return site_file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=400, help="saturated posts (1-100 members)")
    parser.add_argument("--paced", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--sizes", default="1,100,1000,10000")
    parser.add_argument("--sink", choices=("fast", "aiosmtpd"), default="fast")
    parser.add_argument("--instances", type=int, default=1, help="incoming and pipeline")
    parser.add_argument(
        "--pipeline-instances", type=int, default=None, help="pipeline only (not with --instances)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="incoming, pipeline and outgoing"
    )
    parser.add_argument(
        "--cpu-detail", action="store_true", help="also print CPU ms/post per runner"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="posthorn-bench-"))
    sink = BenchSink(free_port(), args.sink)
    args.lmtp_port = free_port()
    site_file = prepare(
        tmp,
        sink.port,
        sizes,
        args.lmtp_port,
        args.instances,
        args.batch_size,
        args.pipeline_instances,
    )
    master = start_master(site_file, tmp, subprocess.DEVNULL)
    site = Site_(master, _var_dir(site_file))
    try:
        wait_for_lmtp(args.lmtp_port, master)
        env: dict[str, object] = {"sink": sink, "site": site}
        for size in sizes:
            run(args, env, size, 0.0)
            run(args, env, size, 0.5)
        print(f"site peak memory: {site.memory()} (summed over its processes)")
    finally:
        site.close()
        stop(master)
    rate = blast(sink.port, 4, 50, 500)
    print(f"{sink.kind} sink alone: {rate:.0f} deliveries/s (4 pipelining clients)")
    sink.stop()


def _var_dir(site_file: Path) -> Path:
    match = re.search(r"^var_dir:\s*(\S+)", site_file.read_text(), re.MULTILINE)
    return Path(match.group(1)) if match else site_file.parent / "var"


if __name__ == "__main__":
    main()
