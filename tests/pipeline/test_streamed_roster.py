"""A post to a list of 12,000, read and delivered a small chunk at a time.

Real pipeline, virgin and outgoing runners (and LMTP, to know the site is up), an SMTP
sink as the MTA, ``roster_chunk`` set far below the roster's size: every enabled regular
member gets exactly one copy, bulk and personalised; a digest reaches every digest
member once; and the outgoing runner's SQL statements for the big list's post (its
debug line per entry) exceed those for a ten-member list's post by no more than the
extra chunks.
"""

from __future__ import annotations

import re
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import pytest

from posthorn.delivery.recipients import KEEP_ROSTER
from posthorn.queues import Switchboard
from posthorn.site import Site
from tests.rosters import add_members, numbered
from tests.sites import master_with_sink, run_cli
from tests.smtpsink import SMTPSink
from tests.waiting import queues_idle, wait_for

pytestmark = pytest.mark.slow

RUNNING = ("lmtp", "pipeline", "virgin", "outgoing")
BIG, SMALL, PERSONAL = "big@example.org", "small@example.org", "personal@example.org"
# Past KEEP_ROSTER, so that the roster is read from the database a chunk at a time for
# the post rather than kept whole between posts.
MEMBERS = KEEP_ROSTER + 2000
CHUNK = 512
SETTINGS = {
    "runner.outgoing": {"roster_chunk": CHUNK, "max_recipients": 100},
    "logging": {"level": "debug"},
}
DEADLINE = 120.0


def list_id(address: str) -> str:
    return address.replace("@", ".")


def arrange(site: Site) -> None:
    for address in (BIG, SMALL, PERSONAL):
        site.lists.create(address, owners=["owner@example.org"])
    site.lists.update(PERSONAL, personalize="full")
    add_members(site, list_id(BIG), numbered(MEMBERS))
    add_members(site, list_id(BIG), numbered(100, 50_000), delivery_status="by_user")
    add_members(site, list_id(BIG), numbered(300, 60_000), delivery_mode="mime_digests")
    add_members(site, list_id(SMALL), numbered(10, 70_000))
    add_members(site, list_id(PERSONAL), numbered(300, 80_000))


def post(var_dir: Path, address: str, subject: str) -> None:
    msg = EmailMessage()
    msg["From"] = "poster@example.net"
    msg["To"] = address
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@example.net>"
    msg.set_content("Hello, everyone.\n")
    with Switchboard(var_dir / "queue" / "pipeline", name="pipeline") as board:
        board.enqueue(msg, {"list_id": list_id(address)})


def copies(sink: SMTPSink, subject: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for recipients, msg in sink.messages():
        if subject in str(msg["Subject"]):
            found.update(address.lower() for address in recipients)
    return found


def settle(sink: SMTPSink, var_dir: Path, subject: str, expected: int) -> Counter[str]:
    wait_for(lambda: sum(copies(sink, subject).values()) >= expected, subject, DEADLINE)
    wait_for(lambda: queues_idle(var_dir / "queue", RUNNING), "the runners idle", DEADLINE)
    return copies(sink, subject)


def statements(var_dir: Path) -> list[int]:
    """The outgoing runner's SQL statements per entry, in the order it handled them."""
    log = (var_dir / "logs" / "outgoing.log").read_text()
    return [int(n) for n in re.findall(r": (\d+) SQL statements", log)]


def test_a_large_roster_is_delivered_a_chunk_at_a_time(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    with master_with_sink(tmp_path, running=RUNNING, arrange=arrange, extra_sections=SETTINGS) as (
        site_file,
        _,
        sink,
    ):
        post(var_dir, SMALL, "small post")
        assert set(settle(sink, var_dir, "small post", 10)) == set(numbered(10, 70_000))
        post(var_dir, BIG, "big post")
        got = settle(sink, var_dir, "big post", MEMBERS)
        # Everyone enabled and regular, once; nobody disabled, no digest member.
        assert set(got) == set(numbered(MEMBERS)) and set(got.values()) == {1}
        small, big = statements(var_dir)[-2:]
        assert big - small <= MEMBERS // CHUNK + 1, (small, big)

        post(var_dir, PERSONAL, "personal post")
        got = settle(sink, var_dir, "personal post", 300)
        assert set(got) == set(numbered(300, 80_000)) and set(got.values()) == {1}
        for recipients, msg in sink.messages():
            if "personal post" in str(msg["Subject"]):
                assert [str(msg["To"])] == recipients  # a copy of its own each

        code, output = run_cli(site_file, "digests", "--send")
        assert code == 0, output
        got = settle(sink, var_dir, "Big Digest", 300)
        assert set(got) == set(numbered(300, 60_000)) and set(got.values()) == {1}
