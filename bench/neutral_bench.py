"""The site measured by the neutral harness, with the CPU it takes per post per runner.

The neutral harness (``../shared/bench/e2e.py`` beside the checkout, or ``--harness``)
knows nothing of Posthorn: it posts over one or more LMTP connections as a list member
(``m0001@example.org``), runs its own aiosmtpd sink and reports throughput, latency and
the CPU of the processes ``--pids-cmd`` prints.  This bench provisions what it needs
(a temporary site with the built-in defaults on SQLite, lists ``bN@example.org`` of N
members ``m0001@example.org``..., outgoing SMTP pointed at the sink), starts the real
master, runs the harness as a subprocess once per list size and mode, and prints the
harness's figures with the CPU ms per post of each process of the site (psutil
``cpu_times`` before and after the run, named from the master's state file), and the
site's peak memory during the run as the harness samples it (PSS and RSS summed over
every process of the site, every half second).

Modes: ``saturated`` (one connection, as fast as accepted), ``paced`` (2 posts/s),
``c16`` (16 connections).  ``--profile DIR`` has every runner write its cProfile
statistics to DIR when the site stops ($POSTHORN_PROFILE, ``runners/process.py``).
``--strace DIR`` attaches one ``strace -f`` to each process of the site for the run and
prints, per runner and per post, the files created, renamed, unlinked and fsynced
(traces kept in DIR).  ``--pipelining`` runs the harness through
``bench/neutral_e2e.py``, whose sink also advertises PIPELINING: the aiosmtpd sink of
the original does not, so outgoing pays one round trip per recipient there.

    .venv/bin/python bench/neutral_bench.py [--sizes 1,100,1000] [--modes saturated,paced]
        [--pipelining] [-n 200] [--json-out FILE]

CPU per runner counts the whole harness run, its settle time included (idle runners
count), divided by the posts accepted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posthorn.config import load_config
from posthorn.site import Site
from tests.processes import free_port, start_master, stop, wait_for_lmtp

ROOT = Path(__file__).resolve().parent.parent
MODES = {"saturated": (1, 0.0), "paced": (1, 2.0), "c16": (16, 0.0)}


def member(n: int) -> str:
    """The harness's default ``--member-fmt``, numbered from 1."""
    return f"m{n:04d}@example.org"


def provision(tmp: Path, sink_port: int, lmtp_port: int, sizes: list[int]) -> Path:
    """A site with the built-in defaults but for its ports, and a list of each size."""
    site_file = tmp / "posthorn.cfg"
    site_file.write_text(
        f"[paths]\nvar_dir: {tmp / 'var'}\n\n"
        f"[mta]\nlmtp_port: {lmtp_port}\nsmtp_port: {sink_port}\n\n"
        f"[webservice]\nport: {free_port()}\n"
    )
    site = Site(load_config(site_file))
    site.databases.upgrade()
    for size in sizes:
        name = f"b{size}@example.org"
        site.lists.create(name)
        for n in range(1, size + 1):
            site.lists.subscribe(name, member(n))
    site.close()
    return site_file


class SiteCPU:
    """CPU seconds of each process of the running site, named by runner."""

    def __init__(self, master: subprocess.Popen[bytes], var_dir: Path) -> None:
        self.master = psutil.Process(master.pid)
        self.state = var_dir / "run" / "master.json"

    def changes(self) -> int:
        """How often the site's change stamp has moved (its size)."""
        with contextlib.suppress(OSError):
            return (self.state.parent.parent / "data" / "changes").stat().st_size
        return 0

    def pids(self) -> list[int]:
        return [self.master.pid, *(p.pid for p in self.master.children(recursive=True))]

    def names(self) -> dict[int, str]:
        with contextlib.suppress(OSError, ValueError, KeyError):
            state = json.loads(self.state.read_text())
            return {int(r["pid"]): str(r["name"]) for r in state["runners"] if r.get("pid")}
        return {}

    def sample(self) -> dict[str, float]:
        """CPU seconds (user and system) of each runner, named as the state file names it."""
        return {name: user + system for name, (user, system) in self.sample_split().items()}

    def sample_split(self) -> dict[str, tuple[float, float]]:
        """User and system CPU seconds of each runner."""
        names = self.names()
        times: dict[str, tuple[float, float]] = {}
        for proc in [self.master, *self.master.children(recursive=True)]:
            try:
                used = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            name = names.get(proc.pid, "master" if proc.pid == self.master.pid else "other")
            user, system = times.get(name, (0.0, 0.0))
            times[name] = (user + used.user, system + used.system)
        return times


def run_harness(args: argparse.Namespace, site: SiteCPU, size: int, mode: str) -> dict:
    concurrency, rate = MODES[mode]
    posts = args.paced_n if rate else max(10, min(args.n, args.n * 1000 // size))
    harness = ROOT / "bench" / "neutral_e2e.py" if args.pipelining else Path(args.harness)
    command = [
        sys.executable,
        str(harness),
        "--lmtp-port", str(args.lmtp_port),
        "--sink-port", str(args.sink_port),
        "--list", f"b{size}@example.org",
        "--sender", member(1),
        "--members", str(size),
        "-n", str(posts),
        "--concurrency", str(concurrency),
        "--rate", str(rate),
        "--pids-cmd", f"echo {' '.join(map(str, site.pids()))}",
        "--tag", f"{size} {mode}",
    ]  # fmt: skip
    if args.pipelining:
        command += ["--pipelining", "--harness", args.harness]
    tracers = start_traces(site, Path(args.strace)) if args.strace else {}
    split_before, changes = site.sample_split(), site.changes()
    harness_before = _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    harness_cpu = _children_cpu() - harness_before
    split_after = site.sample_split()
    before = {name: sum(times) for name, times in split_before.items()}
    after = {name: sum(times) for name, times in split_after.items()}
    stop_traces(tracers)
    changes = site.changes() - changes
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as error:
        raise SystemExit(f"the harness printed no result:\n{done.stdout}\n{done.stderr}") from error
    accepted = max(1, int(result["accepted"]))
    spent = {name: after[name] - before.get(name, 0.0) for name in after}
    result["cpu_ms_per_post_by_runner"] = {
        name: round(seconds * 1000 / accepted, 2)
        for name, seconds in sorted(spent.items(), key=lambda item: -item[1])
        if seconds > 0
    }
    result["cpu_ms_per_post"] = round(sum(spent.values()) * 1000 / accepted, 2)
    # The part of it in the kernel (system calls: files, sockets, locks).
    system = {n: t[1] - split_before.get(n, (0.0, 0.0))[1] for n, t in split_after.items()}
    result["system_cpu_ms_per_post_by_runner"] = {
        name: round(seconds * 1000 / accepted, 2)
        for name, seconds in sorted(system.items(), key=lambda item: -item[1])
        if seconds > 0
    }
    # The harness shares the machine's cores with the site: with one connection, posts/s
    # is bounded by the cores over the CPU of both per post.
    result["harness_cpu_ms_per_post"] = round(harness_cpu * 1000 / accepted, 2)
    # Each database change throws away what the runners cached (database/changes.py).
    result["site_changes"] = changes
    if tracers:
        result["file_ops_per_post_by_runner"] = file_ops(tracers, accepted)
    return result


# The system calls that touch a folder or the disk, as strace names them.
TRACED = "openat,open,creat,rename,renameat,renameat2,unlink,unlinkat,fsync,fdatasync,mkdir"


def start_traces(site: SiteCPU, folder: Path) -> dict[str, tuple[subprocess.Popen[bytes], Path]]:
    """One ``strace -f`` per process of the site, its output in ``folder``/NAME.trace."""
    folder.mkdir(parents=True, exist_ok=True)
    names = site.names()
    tracers = {}
    for pid in site.pids():
        name = names.get(pid, "master" if pid == site.master.pid else f"other-{pid}")
        path = folder / f"{name}.trace"
        command = ["strace", "-f", "-qq", "-e", f"trace={TRACED}", "-o", str(path), "-p", str(pid)]
        tracers[name] = (subprocess.Popen(command, stderr=subprocess.DEVNULL), path)
    time.sleep(1)  # attached before the first post
    return tracers


def stop_traces(tracers: dict[str, tuple[subprocess.Popen[bytes], Path]]) -> None:
    for tracer, _path in tracers.values():
        tracer.terminate()
    for tracer, _path in tracers.values():
        tracer.wait(10)


def file_ops(
    tracers: dict[str, tuple[subprocess.Popen[bytes], Path]], posts: int
) -> dict[str, dict[str, float]]:
    """Per runner, per post: files created, opened, renamed, unlinked, fsynced."""
    table: dict[str, dict[str, float]] = {}
    for name, (_tracer, path) in tracers.items():
        counts: dict[str, int] = {}
        folders: set[tuple[str, str]] = set()  # (thread, fd) open on a folder
        for line in path.read_text(errors="replace").splitlines():
            kind = _file_op(line, folders)
            if kind:
                counts[kind] = counts.get(kind, 0) + 1
        if counts:
            table[name] = {k: round(v / posts, 2) for k, v in sorted(counts.items())}
    return table


def _file_op(line: str, folders: set[tuple[str, str]]) -> str | None:
    """What a line of strace output did: create (O_EXCL), open-creat (O_CREAT on a file
    that may be there), open, open-dir, rename, unlink, fsync, fsync-dir; ``-failed``
    when it failed.  ``folders`` keeps the descriptors open on folders."""
    thread, _, call = line.partition(" ") if line[:1].isdigit() else ("", "", line)
    call = call.strip()
    name = call.split("(", 1)[0]
    if name not in TRACED.split(",") or "resumed>" in call or "unfinished" in call:
        return None
    result = call.rsplit("= ", 1)[-1].split()[0] if "= " in call else ""
    failed = result.startswith("-")
    if name in ("openat", "open", "creat"):
        if failed:
            return "open-failed"
        if "O_DIRECTORY" in call:
            folders.add((thread, result))
            return "open-dir"
        folders.discard((thread, result))
        if "O_EXCL" in call or name == "creat":
            return "create"
        return "open-creat" if "O_CREAT" in call else "open"
    if name in ("fsync", "fdatasync"):
        fd = call.split("(", 1)[1].split(")", 1)[0]
        return "fsync-dir" if (thread, fd) in folders else "fsync"
    kind = name
    for family in ("rename", "unlink"):
        kind = family if name.startswith(family) else kind
    return kind + "-failed" if failed else kind


def report(result: dict, mode: str) -> None:
    latency = result["latency_last_s"]
    median = latency["p50"] * 1000 if latency["p50"] is not None else float("nan")
    print(
        f"{result['members']:>6} members {mode:>9}: {result['accepted']:>4} posts "
        f"{result['messages_per_s_e2e'] or 0:7.1f} posts/s "
        f"intake {result['intake_msgs_per_s'] or 0:7.1f} msg/s "
        f"last copy median {median:6.1f} ms "
        f"cpu {result['cpu_ms_per_post']:7.2f} ms/post "
        f"(harness {result.get('sut_cpu_ms_per_message', 0):.1f}) "
        f"missing {result['missing']} dup {result['duplicates']} "
        f"changes {result['site_changes']}",
        flush=True,
    )
    detail = " ".join(f"{n} {t:.2f}" for n, t in result["cpu_ms_per_post_by_runner"].items())
    print(f"{'':>17}cpu ms/post by runner: {detail}", flush=True)
    system = result["system_cpu_ms_per_post_by_runner"]
    detail = " ".join(f"{n} {t:.2f}" for n, t in system.items())
    print(f"{'':>17}of which in the kernel: {detail}", flush=True)
    print(f"{'':>17}harness (its client and sink): {result['harness_cpu_ms_per_post']:.2f} ms/post")
    # The harness's own sampling (every 0.5 s) of the site's processes, summed.
    print(
        f"{'':>17}site memory during the run: peak PSS {result.get('sut_peak_pss_mb')} MB, "
        f"peak RSS {result.get('sut_peak_rss_mb')} MB"
    )
    for name, counts in result.get("file_ops_per_post_by_runner", {}).items():
        ops = " ".join(f"{kind} {n:g}" for kind, n in counts.items())
        print(f"{'':>17}file ops/post {name}: {ops}")


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (the harness runs)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("--modes", default="saturated,paced")
    parser.add_argument("-n", type=int, default=200, help="saturated posts (fewer above 1,000)")
    parser.add_argument("--paced-n", type=int, default=20)
    parser.add_argument("--harness", default=str(ROOT.parent / "shared" / "bench" / "e2e.py"))
    parser.add_argument("--pipelining", action="store_true", help="bench/neutral_e2e.py's sink")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--profile", default=None, help="runners write cProfile stats here")
    parser.add_argument("--strace", default=None, help="trace file operations into DIR")
    parser.add_argument("--json-out", default=None, help="append each result as a JSON line")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = args.modes.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="posthorn-neutral-"))
    args.sink_port, args.lmtp_port = free_port(), free_port()
    site_file = provision(tmp, args.sink_port, args.lmtp_port, sizes)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        os.environ["POSTHORN_PROFILE"] = str(Path(args.profile).resolve())
    master = start_master(site_file, tmp, subprocess.DEVNULL)
    try:
        wait_for_lmtp(args.lmtp_port, master)
        site = SiteCPU(master, tmp / "var")
        time.sleep(5)  # every runner started, not only LMTP
        idle = site.sample()
        time.sleep(5)
        spent = {n: t - idle.get(n, 0.0) for n, t in site.sample().items()}
        detail = " ".join(f"{n} {t * 200:.1f}" for n, t in sorted(spent.items()) if t > 0)
        print(f"idle site: {sum(spent.values()) * 200:.1f} ms CPU per second ({detail})")
        for size in sizes:
            for mode in modes:
                result = run_harness(args, site, size, mode)
                report(result, mode)
                if args.json_out:
                    with open(args.json_out, "a") as out:
                        out.write(json.dumps(result) + "\n")
    finally:
        stop(master)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
