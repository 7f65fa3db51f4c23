#!/usr/bin/env python3
# ruff: noqa  (a copy of the neutral harness, kept close to the original)
"""A copy of the neutral end-to-end harness (shared/bench/e2e.py) with a pipelining sink.

The one change: ``--pipelining`` makes the sink advertise PIPELINING (RFC 2920) in its
EHLO reply, as Postfix and Exim do.  aiosmtpd's server always reads pipelined commands
line by line, but does not advertise the extension, so a client that pipelines only
when offered (Posthorn's outgoing does) sends one RCPT per round trip to the original
sink.  Everything else is the original harness, reformatted to this project's style.

End-to-end throughput/latency harness for an LMTP-in / SMTP-out list server.

Needs only the standard library and aiosmtpd.  It knows nothing about the
system under test (SUT): provision the list first (e.g.
bench/provision-mailman.sh), point the SUT's outgoing SMTP at --sink-port,
then run for example

    python3 bench/e2e.py --lmtp-port 18024 --sink-port 18025 \
        --list bench@example.org --sender m0001@example.org --members 100 -n 200

What it does
  * starts an SMTP sink (aiosmtpd Controller) on 127.0.0.1:SINK_PORT that
    accepts any sender and recipient and records (Message-ID, recipient,
    arrival time) for every delivered recipient;
  * sends N messages with unique Message-IDs to the list's posting address
    over LMTP (smtplib.LMTP), from --concurrency client threads (one
    connection each, reused for several messages), optionally paced (--rate);
    a failed LMTP transaction is retried like an MTA would (bounded);
  * waits until accepted x members deliveries have arrived (or --timeout),
    plus --settle seconds to catch late duplicates;
  * optionally samples the SUT's processes (--pids-cmd prints their PIDs):
    peak summed RSS and PSS, and CPU seconds the SUT used during the run;
  * prints one JSON object (also to --json-out).

Expected recipients are --members addresses made from --member-fmt
(default m{:04d}@example.org, numbered from 1).  Deliveries to any other
address, or of a Message-ID this run did not send, count as "extraneous".

All traffic goes to 127.0.0.1 unless --lmtp-host/--sink-host say otherwise.
Loops are bounded by --timeout and retry limits.

The original is also imported by the chaos bench of the harness.
"""

import argparse
import json
import math
import os
import random
import re
import resource
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from email.utils import formatdate

try:
    from aiosmtpd.controller import Controller
except ImportError:  # pragma: no cover
    sys.exit("e2e.py needs aiosmtpd (pip install aiosmtpd)")

MID_RE = re.compile(rb"^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^>\r\n]*>)", re.I | re.M)


def now():
    return time.monotonic()


# --------------------------------------------------------------------------
# SMTP sink


class Recorder:
    """Thread-safe record of deliveries seen by the sink."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []  # (t, message_id, recipient)
        self.transactions = 0
        self.connections = 0
        self.cond = threading.Condition(self.lock)

    def add(self, mid, rcpts, t):
        with self.cond:
            self.transactions += 1
            for r in rcpts:
                self.events.append((t, mid, r))
            self.cond.notify_all()

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def count(self):
        with self.lock:
            return len(self.events)


class SinkHandler:
    def __init__(self, recorder, pipelining=False):
        self.rec = recorder
        self.pipelining = pipelining

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses = responses[:-1] + ["250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        t = now()
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        head = content.split(b"\r\n\r\n", 1)[0]
        if len(head) == len(content):
            head = content.split(b"\n\n", 1)[0]
        m = MID_RE.search(head)
        mid = m.group(1).decode("ascii", "replace") if m else None
        rcpts = [r.lower() for r in envelope.rcpt_tos]
        self.rec.add(mid, rcpts, t)
        return "250 OK delivered"


class CountingController(Controller):
    """Controller whose server counts connections."""

    def __init__(self, handler, recorder, **kw):
        self._rec = recorder
        super().__init__(handler, **kw)

    def factory(self):
        rec = self._rec
        server = super().factory()
        orig = server.connection_made

        def connection_made(transport, _orig=orig):
            with rec.lock:
                rec.connections += 1
            return _orig(transport)

        server.connection_made = connection_made
        return server


def start_sink(host, port, pipelining=False):
    rec = Recorder()
    ctl = CountingController(
        SinkHandler(rec, pipelining),
        rec,
        hostname=host,
        port=port,
        data_size_limit=64 * 1024 * 1024,
        ready_timeout=10,
    )
    ctl.start()
    return ctl, rec


# --------------------------------------------------------------------------
# Process sampling (RSS / PSS / CPU of the SUT)

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _read_pids(cmd):
    try:
        out = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout
    except subprocess.TimeoutExpired:
        return []
    pids = []
    for tok in out.split():
        if tok.isdigit():
            pids.append(int(tok))
    return pids


def _proc_cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    rest = data.rsplit(")", 1)[1].split()
    # fields after ')' start at field 3 (state); utime=14, stime=15,
    # starttime=22 (1-based in proc(5))
    utime, stime = int(rest[11]), int(rest[12])
    start = int(rest[19])
    return utime + stime, start


def proc_label(pid):
    """Short name of a process: a --runner=NAME:.. argument or argv[1]."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return "?"
    for a in argv:
        if a.startswith("--runner="):
            return a.split("=", 1)[1].split(":")[0]
    if len(argv) > 1 and not argv[1].startswith("-"):
        return os.path.basename(argv[1])
    return os.path.basename(argv[0]) if argv else "?"


def _proc_mem_kb(pid):
    rss = pss = None
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    if rss is None:
        try:
            with open("/proc/%d/statm" % pid) as f:
                rss = int(f.read().split()[1]) * PAGE // 1024
        except OSError:
            return None, None
    return rss, pss


class Sampler(threading.Thread):
    """Samples the PIDs printed by a command: memory peaks and CPU use."""

    def __init__(self, cmd, interval=0.5):
        super().__init__(daemon=True)
        self.cmd = cmd
        self.interval = interval
        self.stop_ev = threading.Event()
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.peak_nprocs = 0
        self.first_rss_kb = None
        self.samples = 0
        # (pid, starttime) -> [first_ticks, last_ticks]
        self.cpu = {}
        self.labels = {}
        self.lock = threading.Lock()

    def sample(self):
        pids = _read_pids(self.cmd)
        rss_sum = pss_sum = 0
        have_pss = True
        for pid in pids:
            ct = _proc_cpu_ticks(pid)
            rss, pss = _proc_mem_kb(pid)
            if ct is not None:
                key = (pid, ct[1])
                with self.lock:
                    if key in self.cpu:
                        self.cpu[key][1] = ct[0]
                    else:
                        # A process first seen after the start is new: all
                        # its CPU counts.  Those present at the first sample
                        # count from then.
                        first = ct[0] if self.samples == 0 else 0
                        self.cpu[key] = [first, ct[0]]
                        self.labels[key] = proc_label(pid)
            if rss is not None:
                rss_sum += rss
            if pss is None:
                have_pss = False
            else:
                pss_sum += pss
        with self.lock:
            if self.first_rss_kb is None:
                self.first_rss_kb = rss_sum
            self.peak_rss_kb = max(self.peak_rss_kb, rss_sum)
            if have_pss:
                self.peak_pss_kb = max(self.peak_pss_kb, pss_sum)
            self.peak_nprocs = max(self.peak_nprocs, len(pids))
            self.samples += 1

    def run(self):
        while not self.stop_ev.is_set():
            self.sample()
            self.stop_ev.wait(self.interval)

    def stop(self):
        self.stop_ev.set()
        self.join(timeout=15)
        self.sample()

    def result(self):
        with self.lock:
            cpu_ticks = sum(max(0, last - first) for first, last in self.cpu.values())
            by_label = {}
            for key, (first, last) in self.cpu.items():
                lab = self.labels.get(key, "?")
                by_label[lab] = by_label.get(lab, 0) + max(0, last - first)
            return dict(
                sut_peak_rss_mb=round(self.peak_rss_kb / 1024, 1),
                sut_peak_pss_mb=(round(self.peak_pss_kb / 1024, 1) if self.peak_pss_kb else None),
                sut_idle_rss_mb=round((self.first_rss_kb or 0) / 1024, 1),
                sut_peak_nprocs=self.peak_nprocs,
                sut_cpu_s=round(cpu_ticks / CLK_TCK, 2),
                sut_cpu_s_by_proc={
                    k: round(v / CLK_TCK, 2) for k, v in sorted(by_label.items()) if v > 0
                },
                sut_samples=self.samples,
            )


# --------------------------------------------------------------------------
# LMTP sender


def make_message(run_id, i, list_addr, sender, size):
    mid = "<bench-%s-%06d@bench.example.org>" % (run_id, i)
    filler_line = "lorem ipsum dolor sit amet consectetur adipiscing elit\r\n"
    body = "Benchmark message %d of run %s.\r\n" % (i, run_id)
    while len(body) < size:
        body += filler_line
    msg = (
        "From: %s\r\nTo: %s\r\nSubject: bench %s %d\r\n"
        "Date: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="us-ascii"\r\n'
        "Content-Transfer-Encoding: 7bit\r\n\r\n%s"
        % (sender, list_addr, run_id, i, formatdate(localtime=False), mid, body)
    )
    return mid, msg.encode("ascii")


class SendState:
    def __init__(self, n):
        self.lock = threading.Lock()
        self.next_i = 0
        self.n = n
        self.accepted = {}  # mid -> t_accept (last 250)
        self.accept_count = {}  # mid -> number of 250s
        self.rejected = {}  # mid -> last error (permanent)
        self.failed = {}  # mid -> error (gave up after retries)
        self.attempts = 0
        self.retries = 0
        self.ambiguous = 0  # failure after DATA was sent
        self.errors = []  # (t, str) first few
        self.t_first_send = None
        self.t_last_accept = None

    def take(self):
        with self.lock:
            if self.next_i >= self.n:
                return None
            i = self.next_i
            self.next_i += 1
            if self.t_first_send is None:
                self.t_first_send = now()
            return i

    def note_error(self, err):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append("%.3f %s" % (now(), err))


def sender_worker(args, state, run_id, pacer, stop_ev):
    host, port = args.lmtp_host, args.lmtp_port
    conn = None
    sent_on_conn = 0

    def close():
        nonlocal conn, sent_on_conn
        if conn is not None:
            try:
                conn.quit()
            except Exception:
                try:
                    conn.close()
                except Exception:
                    pass
        conn = None
        sent_on_conn = 0

    while not stop_ev.is_set():
        i = state.take()
        if i is None:
            break
        if pacer is not None:
            pacer(i)
        mid, data = make_message(run_id, i + 1, args.list, args.sender, args.size)
        deadline = now() + args.retry_time
        attempt = 0
        while True:
            attempt += 1
            with state.lock:
                state.attempts += 1
                if attempt > 1:
                    state.retries += 1
            in_data = False
            try:
                if conn is None:
                    conn = smtplib.LMTP(host, port, timeout=args.lmtp_timeout)
                    conn.ehlo_or_helo_if_needed()
                code, resp = conn.mail(args.sender)
                if code != 250:
                    raise smtplib.SMTPSenderRefused(code, resp, args.sender)
                code, resp = conn.rcpt(args.list)
                if code not in (250, 251):
                    raise smtplib.SMTPRecipientsRefused({args.list: (code, resp)})
                in_data = True
                code, resp = conn.data(data)
                in_data = False
                if code != 250:
                    raise smtplib.SMTPDataError(code, resp)
                t = now()
                with state.lock:
                    state.accepted[mid] = t
                    state.accept_count[mid] = state.accept_count.get(mid, 0) + 1
                    state.t_last_accept = t
                sent_on_conn += 1
                if args.per_connection and sent_on_conn >= args.per_connection:
                    close()
                break
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as e:
                code = getattr(e, "smtp_code", None)
                if code is None and hasattr(e, "recipients"):
                    code = list(e.recipients.values())[0][0]
                state.note_error("%s %s: %r" % (mid, type(e).__name__, e))
                close()
                if code is not None and 500 <= code < 600:
                    with state.lock:
                        state.rejected[mid] = "%s" % (e,)
                    break
            except (OSError, smtplib.SMTPException) as e:
                if in_data:
                    with state.lock:
                        state.ambiguous += 1
                state.note_error("%s %s: %s" % (mid, type(e).__name__, e))
                close()
            # temporary failure: retry (bounded)
            if now() > deadline or stop_ev.is_set():
                with state.lock:
                    state.failed[mid] = "gave up after %d attempts" % attempt
                break
            time.sleep(min(2.0, 0.1 * attempt) * (0.5 + random.random()))
    close()


def send_all(args, run_id, stop_ev=None):
    """Send args.n messages; returns SendState when done."""
    state = SendState(args.n)
    stop_ev = stop_ev or threading.Event()
    pacer = None
    if args.rate:
        t0 = [None]
        lk = threading.Lock()

        def pacer(i):
            with lk:
                if t0[0] is None:
                    t0[0] = now()
            delay = t0[0] + i / args.rate - now()
            if delay > 0:
                time.sleep(delay)

    threads = [
        threading.Thread(
            target=sender_worker, args=(args, state, run_id, pacer, stop_ev), daemon=True
        )
        for _ in range(max(1, args.concurrency))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return state


# --------------------------------------------------------------------------
# Analysis


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(math.ceil(q * len(xs))) - 1))
    return xs[k]


def r3(x):
    return None if x is None else round(x, 3)


def expected_recipients(args):
    return [args.member_fmt.format(i).lower() for i in range(1, args.members + 1)]


def analyse(args, state, rec, run_id, t_end_wait):
    events = rec.snapshot()
    recips = set(expected_recipients(args))
    prefix = "<bench-%s-" % run_id
    per_pair = {}
    first = {}
    last = {}
    extraneous = 0
    for t, mid, r in events:
        if mid is None or not mid.startswith(prefix) or r not in recips:
            extraneous += 1
            continue
        key = (mid, r)
        per_pair[key] = per_pair.get(key, 0) + 1
        if per_pair[key] == 1:
            first[mid] = min(first.get(mid, t), t)
            last[mid] = max(last.get(mid, t), t)
    accepted = state.accepted
    n_acc = len(accepted)
    expected = n_acc * len(recips)
    delivered_unique = sum(1 for (mid, r) in per_pair if mid in accepted)
    not_accepted_but_delivered = sum(1 for (mid, r) in per_pair if mid not in accepted)
    duplicates = sum(c - 1 for c in per_pair.values())
    missing = expected - delivered_unique
    counts = {}
    for mid, r in per_pair:
        counts[mid] = counts.get(mid, 0) + 1
    complete = [mid for mid in accepted if counts.get(mid, 0) == len(recips)]
    lat_first = [first[m] - accepted[m] for m in accepted if m in first]
    lat_last = [last[m] - accepted[m] for m in complete]
    t0 = state.t_first_send or now()
    intake_s = (state.t_last_accept - t0) if state.t_last_accept else None
    t_last_delivery = max((last[m] for m in last), default=None)
    e2e_s = (t_last_delivery - t0) if t_last_delivery else None
    res = dict(
        run_id=run_id,
        n=args.n,
        members=args.members,
        concurrency=args.concurrency,
        rate_limit=args.rate,
        size=args.size,
        accepted=n_acc,
        accepted_more_than_once=sum(1 for c in state.accept_count.values() if c > 1),
        rejected=len(state.rejected),
        gave_up=len(state.failed),
        lmtp_attempts=state.attempts,
        lmtp_retries=state.retries,
        lmtp_ambiguous=state.ambiguous,
        intake_s=r3(intake_s),
        intake_msgs_per_s=(r3(n_acc / intake_s) if intake_s and intake_s > 0 else None),
        deliveries_expected=expected,
        delivered=delivered_unique,
        missing=missing,
        duplicates=duplicates,
        extraneous=extraneous,
        delivered_but_not_accepted=not_accepted_but_delivered,
        messages_complete=len(complete),
        e2e_s=r3(e2e_s),
        drain_after_intake_s=(
            r3(t_last_delivery - state.t_last_accept)
            if t_last_delivery and state.t_last_accept
            else None
        ),
        deliveries_per_s=(r3(delivered_unique / e2e_s) if e2e_s and e2e_s > 0 else None),
        messages_per_s_e2e=(r3(len(complete) / e2e_s) if e2e_s and e2e_s > 0 else None),
        latency_first_s=dict(
            p50=r3(pct(lat_first, 0.5)),
            p95=r3(pct(lat_first, 0.95)),
            max=r3(max(lat_first, default=None)),
        ),
        latency_last_s=dict(
            p50=r3(pct(lat_last, 0.5)),
            p95=r3(pct(lat_last, 0.95)),
            max=r3(max(lat_last, default=None)),
        ),
        sink_transactions=rec.transactions,
        sink_connections=rec.connections,
        waited_s=r3(t_end_wait - t0),
        timed_out=missing > 0,
        errors_sample=state.errors[:5],
    )
    return res


def wait_for_deliveries(rec, target_fn, timeout_at, settle):
    """Wait until target_fn() is true (checked on each delivery), then settle."""
    with rec.cond:
        while not target_fn() and now() < timeout_at:
            rec.cond.wait(timeout=min(0.5, max(0.01, timeout_at - now())))
    if settle > 0:
        time.sleep(settle)


def make_target(args, rec, state, run_id):
    recips = set(expected_recipients(args))
    prefix = "<bench-%s-" % run_id
    # incremental count of unique expected pairs
    seen = set()
    idx = [0]

    def target():
        # caller holds rec.lock (via rec.cond)
        ev = rec.events
        while idx[0] < len(ev):
            t, mid, r = ev[idx[0]]
            idx[0] += 1
            if mid and mid.startswith(prefix) and r in recips:
                seen.add((mid, r))
        n_acc = len(state.accepted)
        return n_acc > 0 and len(seen) >= n_acc * len(recips)

    return target


def add_common_args(p):
    p.add_argument("--lmtp-host", default="127.0.0.1")
    p.add_argument("--lmtp-port", type=int, default=18024)
    p.add_argument("--sink-host", default="127.0.0.1")
    p.add_argument("--sink-port", type=int, default=18025)
    p.add_argument("--list", required=True, help="list posting address")
    p.add_argument("--sender", required=True, help="a member address")
    p.add_argument(
        "--members", type=int, required=True, help="number of list members (expected recipients)"
    )
    p.add_argument(
        "--member-fmt", default="m{:04d}@example.org", help="member address format, numbered from 1"
    )
    p.add_argument("-n", type=int, default=200, help="messages to send")
    p.add_argument("--concurrency", type=int, default=1, help="parallel LMTP connections")
    p.add_argument(
        "--per-connection", type=int, default=0, help="messages per LMTP connection (0 = unlimited)"
    )
    p.add_argument(
        "--rate",
        type=float,
        default=0,
        help="pace sending to this many msgs/s (0 = as fast as accepted)",
    )
    p.add_argument("--size", type=int, default=2000, help="approximate body size in bytes")
    p.add_argument(
        "--timeout", type=float, default=300, help="overall limit in seconds from the first send"
    )
    p.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds to keep listening after the last expected delivery (catches duplicates)",
    )
    p.add_argument("--lmtp-timeout", type=float, default=60)
    p.add_argument(
        "--retry-time",
        type=float,
        default=60,
        help="seconds to keep retrying one message on temporary LMTP failures",
    )
    p.add_argument(
        "--pids-cmd",
        default=None,
        help="shell command printing the SUT PIDs to sample (RSS/PSS/CPU)",
    )
    p.add_argument("--sample-interval", type=float, default=0.5)
    p.add_argument("--tag", default="", help="free text copied to output")
    p.add_argument("--json-out", default=None, help="also write JSON here")
    p.add_argument("--run-id", default=None)
    p.add_argument(
        "--pipelining", action="store_true", help="the sink advertises PIPELINING in its EHLO reply"
    )


def emit(res, args):
    s = json.dumps(res, sort_keys=False)
    print(s)
    sys.stdout.flush()
    if args.json_out:
        with open(args.json_out, "a") as f:
            f.write(s + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(p)
    args = p.parse_args(argv)
    run_id = args.run_id or uuid.uuid4().hex[:10]
    ctl, rec = start_sink(args.sink_host, args.sink_port, args.pipelining)
    sampler = None
    try:
        if args.pids_cmd:
            sampler = Sampler(args.pids_cmd, args.sample_interval)
            sampler.sample()
            sampler.start()
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t_start = now()
        timeout_at = t_start + args.timeout
        stop_ev = threading.Event()
        state_box = {}

        def do_send():
            state_box["s"] = send_all(args, run_id, stop_ev)

        st = threading.Thread(target=do_send, daemon=True)
        st.start()
        st.join(timeout=args.timeout)
        if st.is_alive():
            stop_ev.set()
            st.join(timeout=args.lmtp_timeout + 5)
        state = state_box.get("s")
        if state is None:
            raise SystemExit("sender did not finish")
        target = make_target(args, rec, state, run_id)
        wait_for_deliveries(rec, target, timeout_at, args.settle)
        t_end = now()
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        res = analyse(args, state, rec, run_id, t_end)
        res["harness_cpu_s"] = round(
            (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), 2
        )
        if sampler:
            sampler.stop()
            res.update(sampler.result())
            if res["delivered"]:
                res["sut_cpu_ms_per_delivery"] = round(
                    1000 * res["sut_cpu_s"] / res["delivered"], 3
                )
                res["sut_cpu_ms_per_message"] = round(
                    1000 * res["sut_cpu_s"] / max(1, res["accepted"]), 2
                )
        res["tag"] = args.tag
        res["loadavg_end"] = os.getloadavg()[0]
        emit(res, args)
        return 0 if res["missing"] == 0 else 1
    finally:
        if sampler and sampler.is_alive():
            sampler.stop()
        ctl.stop()


if __name__ == "__main__":
    sys.exit(main())
