"""Where a paced post's time goes, hop by hop, from the LMTP 250 to the last copy.

A site with the built-in defaults on SQLite (provisioned as ``bench/neutral_bench.py``
does: lists ``bN@example.org`` of N members) delivers to the neutral harness's aiosmtpd
sink (``../shared/bench/e2e.py``, loaded unchanged; it offers no PIPELINING), and this
bench posts to it over one LMTP connection, paced (2 posts/s), as a list member.  An
inotify watch on the queues incoming, pipeline and outgoing notes when each entry was
written there (its ``.pck`` renamed into place) and claimed by the runner (renamed to
``.bak``); paced posts are one at a time, so each event belongs to the latest post sent
before it.  ``smtp.log`` gives each post's SMTP transaction time by Message-ID.  The
bench prints, per list size, the median and 90th percentile of each point, counted from
the moment the client had the LMTP 250 (a runner may take the entry before that: the
LMTP server replies after it made the entry durable).

    .venv/bin/python bench/hop_latency_bench.py [--sizes 1,100] [-n 20] [--rate 2]

It measures time, not CPU; the figures move with whatever else the machine runs.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import shutil
import smtplib
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from neutral_bench import member, provision
from neutral_e2e import HARNESS, load

from tests.processes import free_port, start_master, stop, wait_for_lmtp

QUEUES = ("incoming", "pipeline", "outgoing")
IN_MOVED_TO = 0x80
_EVENT = struct.Struct("iIII")
_SMTP_LINE = re.compile(r"message-id=(\S+) .* time=([0-9.]+)ms")


class QueueEvents(threading.Thread):
    """(time, queue, "written" | "claimed") for every entry renamed into the queues.

    Its own inotify watch, as the runners' (``queues.wakeup``) reports arrivals only,
    without names or times.
    """

    def __init__(self, queue_dir: Path) -> None:
        super().__init__(daemon=True)
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_CLOEXEC)
        self.names = {
            libc.inotify_add_watch(self.fd, os.fsencode(queue_dir / name), IN_MOVED_TO): name
            for name in QUEUES
        }
        self.events: list[tuple[float, str, str]] = []

    def run(self) -> None:
        while True:
            try:
                buffer = os.read(self.fd, 65536)
            except OSError:
                return
            now = time.monotonic()
            offset = 0
            while offset < len(buffer):
                wd, _mask, _cookie, length = _EVENT.unpack_from(buffer, offset)
                start = offset + _EVENT.size
                name = buffer[start : start + length].rstrip(b"\0")
                offset = start + length
                kind = {b".pck": "written", b".bak": "claimed"}.get(name[-4:])
                if kind:
                    self.events.append((now, self.names[wd], kind))

    def first(self, queue: str, kind: str, after: float, before: float) -> float | None:
        return next(
            (t for t, q, k in self.events if q == queue and k == kind and after <= t < before),
            None,
        )


def run_size(args: argparse.Namespace, harness: object, recorder: object, var: Path,
             watch: QueueEvents, size: int) -> None:  # fmt: skip
    address = f"b{size}@example.org"
    sent: list[tuple[str, float, float]] = []  # Message-ID, sent, accepted
    with smtplib.LMTP("127.0.0.1", args.lmtp_port) as client:
        for n in range(args.n):
            mid, data = harness.make_message(f"hop{size}", n, address, member(1), 2000)  # type: ignore[attr-defined]
            started = time.monotonic()
            client.sendmail(member(1), [address], data)
            sent.append((mid, started, time.monotonic()))
            time.sleep(max(0.0, started + 1 / args.rate - time.monotonic()))
    ours = {mid for mid, _, _ in sent}
    copies: dict[str, list[float]] = {}
    deadline = time.monotonic() + 30
    while sum(map(len, copies.values())) < args.n * size and time.monotonic() < deadline:
        time.sleep(0.05)
        copies = {}
        for at, mid, _rcpt in recorder.snapshot():  # type: ignore[attr-defined]
            if mid in ours:
                copies.setdefault(mid, []).append(at)
    smtp_ms: dict[str, float] = {}
    for line in (var / "logs" / "smtp.log").read_text().splitlines():
        if found := _SMTP_LINE.search(line):
            smtp_ms[found.group(1)] = float(found.group(2))
    points: dict[str, list[float]] = {}
    for index, (mid, started, accepted) in enumerate(sent):
        until = sent[index + 1][1] if index + 1 < len(sent) else float("inf")
        times = {f"{q} {k}": watch.first(q, k, started, until) for q in QUEUES
                 for k in ("written", "claimed")}  # fmt: skip
        times["first copy"] = min(copies.get(mid, []), default=None)
        times["last copy"] = max(copies.get(mid, []), default=None)
        for name, at in times.items():
            if at is not None:
                points.setdefault(name, []).append((at - accepted) * 1000)
        if mid in smtp_ms:
            points.setdefault("smtp transaction (length)", []).append(smtp_ms[mid])
    print(f"{size} members, {len(sent)} posts at {args.rate:g}/s, ms after the LMTP 250:")
    for name, values in points.items():
        values.sort()
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        print(f"  {name:>28}: median {statistics.median(values):7.2f}  p90 {p90:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100")
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--rate", type=float, default=2.0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="posthorn-hops-"))
    sink_port, args.lmtp_port = free_port(), free_port()
    site_file = provision(tmp, sink_port, args.lmtp_port, sizes)
    harness = load(HARNESS)
    master = start_master(site_file, tmp, subprocess.DEVNULL)
    controller, recorder = harness.start_sink("127.0.0.1", sink_port)
    try:
        wait_for_lmtp(args.lmtp_port, master)
        time.sleep(5)  # every runner started, not only LMTP
        watch = QueueEvents(tmp / "var" / "queue")
        watch.start()
        for size in sizes:
            run_size(args, harness, recorder, tmp / "var", watch, size)
    finally:
        stop(master)
        controller.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
