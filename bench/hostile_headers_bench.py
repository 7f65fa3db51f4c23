"""CPU per stage for the worst header shapes intake accepts, and which shapes it refuses.

A real master (lmtp, incoming, pipeline, outgoing, archive with ``mail-archive``) runs
against an in-process SMTP sink.  Each shape is one header added to a small post, sent
over LMTP to a list with one member; the bench waits until the member's and the
archive's copies are at the sink (or the post lands in ``shunt``/``bad``, or a
deadline passes) and prints each runner's CPU time for that post, in ms, from
psutil.  The shapes sit exactly at the ``[mta]`` limits (``--over``: one step past
them, or ``--scale K`` times them, which intake must refuse; run on older code, it
shows what those shapes cost).
Also prints the longest line the sink saw.  Every stage must stay under 100 ms.

    .venv/bin/python bench/hostile_headers_bench.py [--over [--scale K]] [--posts N]
"""

from __future__ import annotations

import argparse
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posthorn.config import load_config
from posthorn.intake.precheck import Limits
from posthorn.queues import Switchboard
from posthorn.runstate import read_state
from posthorn.site import Site
from tests.sites import master_with_sink
from tests.smtpsink import SMTPSink

LIST = "dev@example.org"
MEMBER = "member@example.com"
ARCHIVE = "archive@example.net"
STAGES = ("lmtp", "incoming", "pipeline", "outgoing", "archive")
RUNNING = (*STAGES, "retry", "virgin")
BUDGET_MS = 100.0


def shapes(limits: Limits, step: int, scale: int = 1) -> dict[str, str]:
    """Header lines at the limits (``step`` 0) or past them (``step`` 1, ``scale`` times)."""
    depth = limits.max_comment_depth * scale + step
    words = limits.max_encoded_words * scale + step
    count = limits.max_addresses * scale + step
    word = limits.max_header_word * scale + step
    params = limits.max_mime_params * scale + step
    in_address = words if step else min(words, (limits.max_address_size - 25) // 14)
    # ' "n n ... n" <a@example.com>': 19 bytes besides the padding.
    padding = (limits.max_address_size * scale - 19) // 2 + step
    return {
        "plain post": "X-Plain: yes",
        "comments in From": f"From: {'(' * depth}{')' * depth} poster@example.com",
        "comments in Message-ID": f"Message-ID: {'(' * depth}{')' * depth} <mmmmmm@example.com>",
        "comments in References": "References: " + "( " * depth + ") " * depth + "<r@x>",
        "encoded words in Subject": "Subject: " + "=?utf-8?q?=C3=A9t=C3=A9?= " * words,
        # In an address field the address size caps the encoded words first.
        "encoded words in From": "From: " + "=?utf-8?q?a?= " * in_address + "<poster@example.com>",
        "encoded words in To": "To: " + "=?utf-8?q?a?= " * in_address + f"<{LIST}>",
        "MIME parameters": "Content-Type: text/plain"
        + "".join(f"; p{i}=v{i}" for i in range(params)),
        "addresses in Cc": "Cc: " + ", ".join(f"u{i}@example.com" for i in range(count)),
        "encoded addresses in Cc": "Cc: "
        + ", ".join(f"=?utf-8?q?U{i}?= <u{i}@example.com>" for i in range(count)),
        "one huge address in Cc": 'Cc: "' + "n " * padding + '" <a@example.com>',
        "longest word in Subject": "Subject: " + "x" * word,
        "longest Message-ID": f"Message-ID: <{'m' * (word - 14)}@example.com>",
        "group in To": f"To: {'g: ' * (1 + step * depth)}{LIST}{';' * (1 + step * depth)}",
    }


def post(header: str, seq: int) -> bytes:
    name = header.split(":", 1)[0].lower()
    if name == "message-id":
        # Each post its own Message-ID, of the same length: a second post with the same
        # one is taken for a copy already delivered.
        tag = str(seq)
        header = header.replace("<" + "m" * len(tag), "<" + tag, 1)
    lines = [] if name == "from" else ["From: poster@example.com"]
    lines += [] if name == "to" else [f"To: {LIST}"]
    lines += [] if name == "subject" else [f"Subject: shape {seq}"]
    lines += [] if name == "message-id" else [f"Message-ID: <shape-{seq}@example.com>"]
    lines += [header, f"X-Shape: {seq}", "", "Hello list.", ""]
    return "\r\n".join(lines).encode()


def arrange(site: Site) -> None:
    site.lists.create(LIST, owners=["owner@example.org"])
    site.lists.subscribe(LIST, MEMBER)
    site.lists.update(LIST, default_member_action="accept", default_nonmember_action="accept")


class Run:
    def __init__(self, site_file: Path, lmtp_port: int, sink: SMTPSink) -> None:
        self.var = site_file.parent / "var"
        self.lmtp_port = lmtp_port
        self.sink = sink
        state = read_state(self.var / "run" / "master.json") or {}
        self.pids = {r["name"]: psutil.Process(r["pid"]) for r in state.get("runners", [])}

    def cpu(self) -> dict[str, float]:
        times = {}
        for name in STAGES:
            t = self.pids[name].cpu_times()
            times[name] = (t.user + t.system) * 1000
        return times

    def stuck(self) -> int:
        return sum(len(Switchboard(self.var / "queue" / q).files) for q in ("shunt", "bad"))

    def arrived(self, seq: int) -> set[str]:
        marker = f"X-Shape: {seq}\r\n".encode()
        with self.sink.lock:
            return {r for _, rcpts, c in self.sink.received if marker in c for r in rcpts}

    def send(self, data: bytes) -> str | None:
        with smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=300) as lmtp:
            try:
                lmtp.sendmail("poster@example.com", [LIST], data)
            except smtplib.SMTPDataError as error:
                return f"{error.smtp_code} {error.smtp_error.decode()}"
        return None

    def measure(self, header: str, seqs: range, deadline: float) -> tuple[str, dict[str, float]]:
        """Send one post per number in ``seqs``: the outcome and the mean CPU ms per stage.

        CPU times tick in 10 ms steps, so only a mean over several posts shows less.
        """
        stuck, before = self.stuck(), self.cpu()
        outcome = "timed out"
        for seq in seqs:
            refused = self.send(post(header, seq))
            if refused:
                return f"refused: {refused}", {}
            outcome = _wait(lambda: _done(self, seq, stuck), deadline) or "timed out"  # noqa: B023
            if outcome != "delivered":
                break
        time.sleep(0.3)  # the runners finish their bookkeeping after the hand-off
        after = self.cpu()
        return outcome, {name: (after[name] - before[name]) / len(seqs) for name in STAGES}


def _done(run: Run, seq: int, stuck: int) -> str | None:
    if {MEMBER, ARCHIVE} <= run.arrived(seq):
        return "delivered"
    return "shunted or bad" if run.stuck() > stuck else None


def _wait(condition: Callable[[], str | None], deadline: float) -> str | None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    return None


def longest_line(sink: SMTPSink) -> int:
    with sink.lock:
        return max((len(line) for *_, c in sink.received for line in c.split(b"\r\n")), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--over", action="store_true", help="one step past each limit")
    parser.add_argument("--scale", type=int, default=1, help="with --over: K times the limits")
    parser.add_argument("--posts", type=int, default=10, help="posts per shape (mean shown)")
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds per post")
    args = parser.parse_args()
    limits = Limits.from_section(load_config(None)["mta"])
    extra = {"archiver.mail-archive": {"enable": "yes", "recipient": ARCHIVE}}
    with tempfile.TemporaryDirectory() as tmp, master_with_sink(
        Path(tmp), running=RUNNING, arrange=arrange, extra_sections=extra,
        output=subprocess.DEVNULL,
    ) as (site_file, lmtp_port, sink):  # fmt: skip
        run = Run(site_file, lmtp_port, sink)
        run.measure("X-Warm: up", range(1, 4), args.deadline)
        print(f"{'shape':28s} {'outcome':16s} " + " ".join(f"{s:>9s}" for s in STAGES))
        seq = 10
        worst = 0.0
        for name, header in shapes(limits, 1 if args.over else 0, args.scale).items():
            outcome, cpu = run.measure(header, range(seq, seq + args.posts), args.deadline)
            seq += args.posts
            if not cpu:
                print(f"{name:28s} {outcome}")
                continue
            worst = max(worst, *cpu.values())
            cells = " ".join(f"{cpu[s]:9.1f}" for s in STAGES)
            print(f"{name:28s} {outcome:16s} {cells}")
        longest = longest_line(sink)
        print(f"CPU ms per post and stage, mean of {args.posts}; worst {worst:.1f} ms "
              f"(budget {BUDGET_MS:.0f}); longest line at the sink: {longest} octets")  # fmt: skip


if __name__ == "__main__":
    main()
