"""What the runners' site-wide state costs per post, in files (SQLite) and in PostgreSQL.

    python bench/shared_state_bench.py [--posts N] [--postgres URL]

A site on PostgreSQL, which may run on several hosts, keeps three things in its
database that a SQLite site keeps in files: each post's delivery record (opened and
locked, read, one write per finished batch, closed), the post's append to its list's
digest, and when each periodic job last ran (read and written under the job's site
lock).  Measured per post with 1 and 1,000 members (bulk: one batch of 500; per member:
one write each), for the files of a temporary data dir and for a private schema of the
PostgreSQL server (default ``$POSTHORN_TEST_POSTGRES`` or the local test database).
Prints figures only.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from email.message import Message
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from posthorn.config import load_config
from posthorn.delivery.records import delivery_records
from posthorn.digests.store import digest_store
from posthorn.site import Site
from posthorn.site_lock import SiteLocks

LIST_ID = "bench.example.org"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LOG = logging.getLogger("bench")


def _site(var_dir: Path, url: str) -> Site:
    overrides = {"paths": {"var_dir": str(var_dir)}, "database": {"url": url}}
    site = Site(load_config(None, overrides=overrides))
    site.databases.upgrade()
    return site


def _post(n: int) -> Message:
    msg = Message()
    msg["From"] = "poster@example.com"
    msg["Subject"] = f"Bench {n}"
    msg["Message-ID"] = f"<bench-{n}@example.net>"
    msg.set_payload("A line of text.\n" * 60)
    return msg


def _cases(site: Site, posts: int) -> list[tuple[str, list[float]]]:
    records, store, locks = delivery_records(site), digest_store(site), SiteLocks.from_site(site)
    results = []
    for count in (1, 1000):
        members = [f"m{i:05d}@d{i % 7}.example.com" for i in range(count)]
        for label, batch in (("bulk", 500), ("per member", 1)):
            times = []
            for n in range(posts):
                started = time.perf_counter()
                with records.open(LIST_ID, f"{count}-{batch}", f"<bench-{n}@x>") as record:
                    todo = [a for a in members if a not in record.done]
                    for start in range(0, len(todo), batch):
                        record.record(todo[start : start + batch])
                times.append(time.perf_counter() - started)
            results.append((f"delivery record, {count:>4} members, {label}", times))
    results.append(("digest append", _timed(posts, lambda n: store.append(LIST_ID, _post(n)))))
    job = _timed(posts, lambda n: locks.run_due("bench", 0, lambda: None, LOG))
    results.append(("periodic job: lock, read, run nothing, write", job))
    return results


def _timed(posts: int, step: Callable[[int], object]) -> list[float]:
    times = []
    for n in range(posts):
        started = time.perf_counter()
        step(n)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100)
    server = os.environ.get("POSTHORN_TEST_POSTGRES", DEFAULT_SERVER)
    parser.add_argument("--postgres", default=server)
    args = parser.parse_args()
    print(f"{args.posts} posts each; milliseconds per post (median, p95)")
    with tempfile.TemporaryDirectory(prefix="state-bench-") as tmp:
        site = _site(Path(tmp) / "sqlite", f"sqlite:///{tmp}/posthorn.db")
        try:
            for label, times in _cases(site, args.posts):
                _report(f"files/SQLite: {label}", times)
        finally:
            site.close()
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(make_url(args.postgres), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(args.postgres).update_query_dict({"options": f"-csearch_path={schema}"})
        site = _site(Path(tmp) / "pg", url.render_as_string(hide_password=False))
        try:
            for label, times in _cases(site, args.posts):
                _report(f"PostgreSQL:   {label}", times)
        finally:
            site.close()
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _report(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(f"{label:<64} {statistics.median(ms):8.3f} ms  {p95:8.3f} ms")


if __name__ == "__main__":
    main()
