"""End to end: 20 posts over LMTP; regular members get 20 copies, digest members digests.

A real master runs the whole path including the digest runner.  The size threshold is
small, so to-digest triggers digests on its own while posts arrive; ``posthorn
digests --send`` then sends the rest.  Every digest is parsed: together the issues
hold each post exactly once, numbered 1, 2, ... in volume 1, and each digest member
gets each issue once, in the format they chose.
"""

from __future__ import annotations

import email
import re
import smtplib
import subprocess
from email.message import Message
from pathlib import Path

import pytest
from click.testing import CliRunner

from posthorn.cli import main
from posthorn.site import Site
from tests.bounces.test_bounce_master import DEADLINE
from tests.sites import master_with_sink
from tests.smtpsink import SMTPSink
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

LIST = "dev@example.org"
POSTER = "poster@example.com"
REGULAR = ["r1@example.com", "r2@example.com"]
MIME = "mime@example.com"
PLAIN = "plain@example.com"
POSTS = 20
FIRST_WAVE = 10  # posts of about 830 bytes: more than the 6 KiB threshold
RUNNING = ("lmtp", "incoming", "pipeline", "virgin", "outgoing", "retry", "digest")


def arrange(site: Site) -> None:
    site.lists.create(LIST, owners=["owner@example.org"])
    for address in [POSTER, *REGULAR]:
        site.lists.subscribe(LIST, address)
    site.lists.subscribe(LIST, MIME, delivery_mode="mime_digests")
    site.lists.subscribe(LIST, PLAIN, delivery_mode="plaintext_digests")
    site.lists.update(LIST, digest_size_threshold=6.0)


def post(n: int) -> bytes:
    return (f"From: {POSTER}\nTo: {LIST}\nSubject: Post {n:02d}\n"
            f"Message-ID: <post-{n}@example.com>\n\nBody of post {n:02d}.\n"
            + "Some words to give the post weight.\n" * 20).encode()  # fmt: skip


def received_by(sink: SMTPSink, address: str) -> list[Message]:
    with sink.lock:
        return [email.message_from_bytes(c) for _, r, c in sink.received if address in r]


def mime_posts(digest: Message) -> list[str]:
    assert digest.get_content_type() == "multipart/mixed"
    parts: list[Message] = digest.get_payload()  # type: ignore[assignment]
    (inner,) = [part for part in parts if part.get_content_type() == "multipart/digest"]
    subjects = []
    posts: list[Message] = inner.get_payload()  # type: ignore[assignment]
    for part in posts:
        assert part.get_content_type() == "message/rfc822"
        wrapped = part.get_payload(0)
        assert isinstance(wrapped, Message)
        subjects.append(re.sub(r"^\[Dev\] ", "", str(wrapped["subject"])))
    return subjects


def plain_posts(digest: Message) -> list[str]:
    assert digest.get_content_type() == "text/plain"
    payload = digest.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode().replace("\r\n", "\n")
    toc, sep, rest = text.partition("\n" + "-" * 70 + "\n")
    assert sep and "Today's Topics:" in toc
    end = f"End of {digest['subject']}"
    assert rest.rstrip().endswith(f"{end}\n{'*' * len(end)}")
    posts = rest.split("\n" + "-" * 30 + "\n")[:-1]
    subjects = [re.search(r"^Subject: (?:\[Dev\] )?(.*)$", p, re.M).group(1) for p in posts]  # type: ignore[union-attr]
    assert all(f"{n:2d}. " in toc for n in range(1, len(posts) + 1))
    return subjects


def numbers(digests: list[Message]) -> list[str]:
    return sorted((str(d["subject"]) for d in digests), key=lambda s: int(s.split()[-1]))


def test_twenty_posts_regular_and_digest_members(tmp_path: Path) -> None:
    with master_with_sink(tmp_path, running=RUNNING, arrange=arrange,
                          output=subprocess.DEVNULL) as (path, lmtp_port, sink):  # fmt: skip
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
            for n in range(1, FIRST_WAVE + 1):
                lmtp.sendmail(POSTER, [LIST], post(n))
            # The first wave passes the size threshold; its digest goes out before the
            # second wave arrives, however slowly a loaded machine runs the runners.
            wait_for(lambda: received_by(sink, MIME) or None, "a digest sent by size", DEADLINE)
            for n in range(FIRST_WAVE + 1, POSTS + 1):
                lmtp.sendmail(POSTER, [LIST], post(n))
        for address in REGULAR:

            def copies(a: str = address) -> bool | None:
                return len(received_by(sink, a)) >= POSTS or None

            wait_for(copies, "20 copies", DEADLINE)
        result = CliRunner().invoke(main, ["-C", str(path), "digests", "--send", "-l", LIST])
        assert result.exit_code == 0, result.output
        wanted = [f"Post {n:02d}" for n in range(1, POSTS + 1)]

        def all_in(address: str, parse: object) -> list[Message] | None:
            digests = received_by(sink, address)
            got = [s for d in digests for s in parse(d)]  # type: ignore[operator]
            return digests if sorted(got) == wanted else None

        mime = wait_for(
            lambda: all_in(MIME, mime_posts), "MIME digests with all 20 posts", DEADLINE
        )
        plain = wait_for(
            lambda: all_in(PLAIN, plain_posts), "plain digests with all 20 posts", DEADLINE
        )
        expected = [f"Dev Digest, Vol 1, Issue {n}" for n in range(1, len(mime) + 1)]
        assert numbers(mime) == expected == numbers(plain)
        assert len(mime) >= 2  # the size threshold sent some before --send
        for address in REGULAR:
            assert sorted(str(m["subject"]) for m in received_by(sink, address)) == [
                f"[Dev] {s}" for s in wanted
            ]
        digests = sum(len(r) for _, r, _ in sink.received if MIME in r or PLAIN in r)
        assert digests == 2 * len(mime)
