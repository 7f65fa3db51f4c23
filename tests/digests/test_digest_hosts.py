"""End to end on two hosts: posts taken in by either go into one digest, sent once.

Two real masters ("hosts": var dirs of their own, one PostgreSQL database, one SMTP
sink for their MTA) each run the LMTP-to-outgoing path.  Posts arrive over LMTP at
both; the regular member gets each once; ``posthorn digests --send`` on the second
host then sends one digest holding every post, whichever host's pipeline appended it,
and run again sends nothing.
"""

from __future__ import annotations

import email
import smtplib
import subprocess
from pathlib import Path

import pytest

from posthorn.config import load_config
from tests.processes import free_port
from tests.sites import prepared_site, run_cli, running_master, write_site_config
from tests.smtpsink import SMTPSink, running_sink

pytestmark = pytest.mark.slow

LIST = "dev@example.org"
POSTER = "poster@example.com"
REGULAR = "regular@example.com"
MIME = "mime@example.com"
RUNNING = ("lmtp", "incoming", "pipeline", "virgin", "outgoing")
POSTS = 4


def post(n: int) -> bytes:
    return (f"From: {POSTER}\nTo: {LIST}\nSubject: Post {n}\n"
            f"Message-ID: <hosts-{n}@example.com>\n\nBody of post {n}.\n").encode()  # fmt: skip


def digests(sink: SMTPSink) -> list[str]:
    with sink.lock:
        found = [email.message_from_bytes(c) for _, r, c in sink.received if MIME in r]
    return [m.as_string() for m in found]


def test_posts_taken_in_on_two_hosts_make_one_digest(tmp_path: Path, postgres_url: str) -> None:
    with running_sink() as sink:
        sites = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            path = write_site_config(
                tmp_path / name, lmtp_port=free_port(), smtp_port=sink.port, running=RUNNING,
                extra_sections={"database": {"url": postgres_url}},
            )  # fmt: skip
            with prepared_site(path) as site:
                if name == "a":
                    site.lists.create(LIST, owners=["owner@example.org"])
                    site.lists.subscribe(LIST, POSTER)
                    site.lists.subscribe(LIST, REGULAR)
                    site.lists.subscribe(LIST, MIME, delivery_mode="mime_digests")
                    site.lists.update(LIST, digest_size_threshold=1000.0)
            sites.append(path)
        ports = [load_config(path)["mta"].get_int("lmtp_port") for path in sites]
        with (
            running_master(sites[0], ports[0], subprocess.DEVNULL),
            running_master(sites[1], ports[1], subprocess.DEVNULL),
        ):
            for n in range(POSTS):
                with smtplib.LMTP("127.0.0.1", ports[n % 2], timeout=10) as lmtp:
                    lmtp.sendmail(POSTER, [LIST], post(n))
            for n in range(POSTS):
                sink.wait(REGULAR, f"Post {n}")
            code, output = run_cli(sites[1], "digests", "--send")
            assert code == 0 and "1 digest(s) queued" in output, output
            sink.wait(MIME, "Digest")
            code, output = run_cli(sites[0], "digests", "--send")
            assert code == 0 and "0 digest(s) queued" in output, output
        assert sink.counts[REGULAR] == POSTS
        (digest,) = digests(sink)
        for n in range(POSTS):
            assert digest.count(f"Message-ID: <hosts-{n}@example.com>") == 1, n
