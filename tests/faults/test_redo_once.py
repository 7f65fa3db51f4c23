"""A stage redone after a kill sends no second copy: one copy per member at the sink.

Each runner is SIGKILLed once right after it handed its entry to the next queue and
before it finished its own (``tests.faults.crash``): incoming after the accept chain
queued the post for the pipeline, the pipeline after to-outgoing, the virgin runner
after to-outgoing queued a moderators' notice, incoming after the reject chain queued
its notice to the poster.  The restarted runner redoes the entry,
so the outgoing runner gets the same post twice; its delivery record (list, audience,
Message-ID-Hash, per-recipient done marks) makes the second one send nothing.  Before,
every member got a second copy of the redone post, the moderators a second notice,
the poster a second rejection, and digest members the post twice in their digest.
"""

from __future__ import annotations

from pathlib import Path

from posthorn.config import load_config
from posthorn.site import Site
from tests.faults.stack import LIST, POSTER, Poster, Stack, build
from tests.faults.test_handlers import POSTING
from tests.waiting import wait_for

POSTS = 6
LIST_ID = "chaos.example.org"
OWNER = "owner@example.org"


def _chain(stack: Stack, chain: str) -> None:
    site = Site(load_config(stack.site_file))
    try:
        site.lists.update(LIST, posting_chain=chain)
    finally:
        site.close()


def test_posts_redone_by_incoming_and_pipeline_go_out_once(tmp_path: Path) -> None:
    handlers = POSTING.format("dmarc").replace("dmarc, dmarc,", "dmarc,")
    handlers += ", tests.faults.crash:CrashAfterEnqueue"
    stack = build(tmp_path, 3, extra={"pipeline.posting": {"handlers": handlers}})
    _chain(stack, "tests.faults.crash:AcceptThenCrash")
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        for n in range(POSTS):
            poster.post(n)
        outcome = stack.wait_delivered(poster.accepted, 30)
        for name in ("accept-then-crash", "crash-after-enqueue"):
            assert (stack.var_dir / f"crashed-{name}").exists(), name
        # A second copy would come from the redone entries, behind the first: wait them out.
        stack.wait_idle()
        outcome = stack.wait_delivered(poster.accepted, 5)
        print(f"incoming + pipeline killed after the hand-over: {len(poster.accepted)} posts, "
              f"{outcome.expected - len(outcome.missing)}/{outcome.expected} delivered, "
              f"{outcome.duplicates} extra copies")  # fmt: skip
        assert outcome.missing == []
        assert outcome.duplicates == 0
        assert "not sent again" in stack.log("outgoing")
        # The redone pipeline entry passed to-digest twice; the digest holds it once.
        mailbox = stack.var_dir / "data" / "digests" / f"{LIST_ID}.mbox"
        subjects = [
            line for line in mailbox.read_bytes().splitlines() if line.startswith(b"Subject:")
        ]
        assert len(subjects) == len(poster.accepted), subjects
    finally:
        stack.stop()
        stack.sink.stop()


def test_a_notice_redone_by_the_virgin_runner_goes_out_once(tmp_path: Path) -> None:
    virgin = "cook-headers, to-outgoing, tests.faults.crash:CrashAfterNoticeEnqueue"
    stack = build(tmp_path, 2, extra={"pipeline.virgin": {"handlers": virgin}})
    _chain(stack, "tests.faults.crash:HoldThenCrash")
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        for n in range(POSTS):
            poster.post(n)

        def notices() -> int:
            with stack.sink.lock:
                return sum(OWNER in rcpts for _, rcpts, _ in stack.sink.received)

        wait_for(lambda: notices() >= POSTS, "the moderators' notices", 30)
        for name in ("hold-then-crash", "crash-after-notice-enqueue"):
            assert (stack.var_dir / f"crashed-{name}").exists(), name
        stack.wait_idle()
        print(f"incoming killed after a hold, virgin after a notice: {POSTS} posts, "
              f"{notices()} moderator notices")  # fmt: skip
        assert notices() == POSTS
    finally:
        stack.stop()
        stack.sink.stop()


def test_a_reject_notice_redone_by_incoming_goes_out_once(tmp_path: Path) -> None:
    stack = build(tmp_path, 2)
    _chain(stack, "tests.faults.crash:RejectThenCrash")
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        for n in range(POSTS):
            poster.post(n)

        def notices() -> int:
            with stack.sink.lock:
                return sum(POSTER in rcpts for _, rcpts, _ in stack.sink.received)

        wait_for(lambda: notices() >= POSTS, "the reject notices", 30)
        assert (stack.var_dir / "crashed-reject-then-crash").exists()
        stack.wait_idle()
        print(f"incoming killed after a reject: {POSTS} posts, {notices()} reject notices")
        assert notices() == POSTS
    finally:
        stack.stop()
        stack.sink.stop()
