"""One post to a 100,000-member list, on SQLite and on PostgreSQL: time and memory.

For each database a fresh site runs every runner (``memory_bench`` does the same), its
MTA the bench's pipelining sink (``benchsink``).  Two lists: ``small`` (100 members)
and ``big`` (``--members``, written in bulk by ``tests.rosters``).  One post to each
goes in over LMTP; the bench prints, for the big one, the seconds from LMTP's 250 to
the last copy reaching the sink, the site's peak PSS (all processes, sampled every
half second) and the outgoing runner's peak resident size, and, for both, the SQL
statements each runner sent for the post (the runners' debug line per entry), which
must not grow per member: only by one read per ``roster_chunk`` (1,000 members) and,
on PostgreSQL, where the delivery records are rows, one write per batch of
``max_recipients`` (500): 105 and 308 statements for 100,000 members.
PostgreSQL: a database of its own, made and dropped on ``--postgres`` (db ``test``'s
server, trust auth).  Prints figures, never pass/fail.

    .venv/bin/python bench/big_list_bench.py [--members 100000] [--db sqlite postgresql]
"""

from __future__ import annotations

import argparse
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchsink import BenchSink
from sqlalchemy import create_engine, make_url, text

from posthorn.config import load_config
from tests.memory import MIB, RunnerMemory, site_pss
from tests.processes import free_port, start_master, stop
from tests.rosters import add_members, numbered
from tests.sites import prepared_site, wait_for_greeting, write_site_config

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SMALL, BIG = "small@example.org", "big@example.org"
DEADLINE = 900.0
STATEMENTS = re.compile(r"^\S+ \S+ \d+ posthorn\.(\w+) DEBUG \S+: (\d+) SQL statements$", re.M)


@contextmanager
def database(kind: str, server: str) -> Iterator[str | None]:
    """The database URL for a site (None: the default SQLite file), dropped afterwards."""
    if kind == "sqlite":
        yield None
        return
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    name = f"posthorn_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(tmp: Path, url: str | None, members: int, lmtp: int, smtp: int) -> Path:
    defaults = load_config(None, overrides={"paths": {"var_dir": str(tmp / "var")}})
    sections: dict[str, dict[str, object]] = {"logging": {"level": "debug"}}
    if url:
        sections["database"] = {"url": url}
    site_file = write_site_config(
        tmp, lmtp_port=lmtp, smtp_port=smtp, running=list(defaults.named("runner")),
        extra_sections=sections,
    )  # fmt: skip
    with prepared_site(site_file) as site:
        started = time.monotonic()
        for address, count in ((SMALL, 100), (BIG, members)):
            site.lists.create(address, owners=["owner@example.org"])
            site.lists.update(address, default_nonmember_action="accept")
            add_members(site, address.replace("@", "."), numbered(count))
        print(f"  {members} members written in {time.monotonic() - started:.1f}s")
    return site_file


def post(lmtp: int, address: str, seq: int) -> float:
    """Send post ``seq`` to ``address``; the monotonic time LMTP answered 250."""
    data = (
        f"From: poster@example.net\r\nTo: {address}\r\nSubject: post {seq}\r\n"
        f"Message-ID: <big-{seq}-{uuid.uuid4().hex}@example.net>\r\nX-Bench: {seq}\r\n\r\n"
        "Hello, everyone.\r\n"
    ).encode()
    with smtplib.LMTP("127.0.0.1", lmtp) as client:
        client.sendmail("poster@example.net", [address], data)
    return time.monotonic()


class PeakPss:
    """The site's summed PSS, sampled in a thread every half second; its peak."""

    def __init__(self, master_pid: int, var_dir: Path) -> None:
        self.master_pid, self.var_dir = master_pid, var_dir
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, sum(site_pss(self.master_pid, self.var_dir).values()))
            if self._stop.wait(0.5):
                return

    def close(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def delivered(sink: BenchSink, seq: int, expected: int) -> float:
    """Wait until post ``seq`` reached ``expected`` recipients; the last arrival."""
    deadline = time.monotonic() + DEADLINE
    while True:
        _, copies, last = sink.stats()
        if copies.get(seq, 0) >= expected:
            return last[seq]
        if time.monotonic() > deadline:
            raise SystemExit(f"post {seq}: {copies.get(seq, 0)} of {expected} after {DEADLINE}s")
        time.sleep(0.2)


def statements(var_dir: Path) -> dict[str, list[int]]:
    """Per runner, the SQL statements of each entry it handled, in order."""
    found: dict[str, list[int]] = {}
    for log in sorted((var_dir / "logs").glob("*.log")):
        for name, count in STATEMENTS.findall(log.read_text(errors="replace")):
            found.setdefault(name, []).append(int(count))
    return found


def measure(kind: str, members: int, server: str) -> None:
    print(f"{kind}:")
    tmp = Path(tempfile.mkdtemp(prefix="posthorn-biglist-"))
    sink = BenchSink(free_port())
    lmtp = free_port()
    try:
        with database(kind, server) as url:
            site_file = prepare(tmp, url, members, lmtp, sink.port)
            master = start_master(site_file, tmp, subprocess.DEVNULL)
            var_dir = tmp / "var"
            try:
                wait_for_greeting(master, lmtp, var_dir)
                accepted = post(lmtp, SMALL, 1)
                delivered(sink, 1, 100)
                small = statements(var_dir)
                memory = RunnerMemory(var_dir)
                memory.reset()
                pss = PeakPss(master.pid, var_dir)
                accepted = post(lmtp, BIG, 2)
                last = delivered(sink, 2, members)
                peak = pss.close()
                outgoing = memory.extra().get("outgoing", 0)
                time.sleep(1)  # the runners' last debug lines
                report(small, statements(var_dir), last - accepted, peak, outgoing, members)
            finally:
                stop(master)
    finally:
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def report(
    small: dict[str, list[int]], both: dict[str, list[int]], seconds: float, peak: int,
    outgoing: int, members: int,
) -> None:  # fmt: skip
    print(f"  LMTP 250 to last of {members} copies: {seconds:.1f}s "
          f"({members / seconds:.0f} recipients/s)")  # fmt: skip
    print(f"  site peak PSS during delivery: {peak / MIB:.1f} MiB; "
          f"outgoing runner's peak rose {outgoing / MIB:.1f} MiB")  # fmt: skip
    print("  SQL statements per post, by runner: 100 members -> big list")
    for name in sorted(both):
        before = small.get(name, [])
        after = both[name][len(before) :]
        print(f"    {name:>10}: {sum(before):>4} -> {sum(after):>4}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"],
                        default=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--postgres", default=SERVER, help="server URL (its db is not used)")
    args = parser.parse_args()
    for kind in args.db:
        measure(kind, args.members, args.postgres)


if __name__ == "__main__":
    main()
