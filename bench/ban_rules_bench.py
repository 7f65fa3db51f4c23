"""Ban and header-match benchmark: what the two rules cost per post.

    python bench/ban_rules_bench.py [--bans N] [--matches N] [--posts N] [--db URL]

Builds a site on a fresh SQLite database (or --db, a PostgreSQL URL: the bench works in
a private schema there, dropped at the end) with N bans
(90% addresses, 10% ^patterns, half on the list and half site-wide) and N header
matches on one list, then runs the banned-address and header-match rules as the
posting chain does, once per post, for a post that no ban and no match hits (the
common case, and the dearest: every pattern is tried).  Prints figures only; it never
passes or fails on time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from posthorn.config import load_config
from posthorn.model.bans import DatabaseBanManager
from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.rules import one_decision
from posthorn.rules.banned_address import BannedAddress
from posthorn.rules.header_match import HeaderMatch
from posthorn.site import Site

LIST = "bench@example.org"
POST = (
    b"From: Anne Example <anne@example.org>\r\nTo: bench@example.org\r\n"
    b"Subject: a post nobody banned\r\nMessage-ID: <bench@example.org>\r\n"
    b"Received: from mail.example.org by lists.example.org\r\n"
    b"Received: from [198.51.100.7] by mail.example.org\r\n"
    b"X-Spam-Level: **\r\n\r\nHello.\r\n"
)


def arrange(site: Site, bans: int, matches: int) -> None:
    mlist = site.lists.create(LIST)
    manager = DatabaseBanManager.from_site(site)
    for n in range(bans):
        where = mlist.list_id if n % 2 else None
        manager.ban(f"^.*@spam{n}\\.example$" if n % 10 == 0 else f"user{n}@example.net", where)
    headers = DatabaseHeaderMatches.from_site(site)
    for n in range(matches):
        headers.append(mlist.list_id, f"X-Check-{n % 7}", f"^bad-value-{n}$", "discard")


def run(site: Site, posts: int) -> list[float]:
    rules = (BannedAddress(site), HeaderMatch(site))
    mlist = site.lists.require(LIST)
    timings = []
    for _ in range(posts):
        msg = message_from_bytes(POST)
        msgdata = {"envelope_sender": "anne@example.org"}
        started = time.perf_counter()
        with one_decision():
            hits = [rule.check(mlist, msg, msgdata) for rule in rules]
        timings.append(time.perf_counter() - started)
        assert hits == [False, False], hits
    return timings


@contextmanager
def database(given: str | None, tmp: Path) -> Iterator[str]:
    """The URL to work on: SQLite in ``tmp``, or a private schema on the given server."""
    if given is None:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(given).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bans", type=int, default=1000)
    parser.add_argument("--matches", type=int, default=50)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--db", help="database URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(args.db, Path(tmp)) as url:
        config = load_config(None, overrides={"paths": {"var_dir": tmp}, "database": {"url": url}})
        site = Site(config)
        try:
            site.databases.upgrade()
            arrange(site, args.bans, args.matches)
            run(site, 50)  # warm the caches and the connection pool
            timings = run(site, args.posts)
        finally:
            site.close()
    micro = sorted(t * 1e6 for t in timings)
    print(
        f"{args.bans} bans, {args.matches} header matches, {args.posts} posts ({url.split(':')[0]})"
    )
    print(f"per post: median {statistics.median(micro):.0f} us, "
          f"p95 {micro[int(len(micro) * 0.95)]:.0f} us, max {micro[-1]:.0f} us")  # fmt: skip
    print(f"throughput of the two rules alone: {len(micro) / (sum(micro) / 1e6):.0f} posts/s")


if __name__ == "__main__":
    main()
