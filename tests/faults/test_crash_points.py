"""SIGKILL between a database change and the queue hand-over that goes with it.

Incoming: the hold chain stores the post in the held table, queues the moderators'
notice, and the runner dies before it finishes the entry.  The restarted runner redoes
the entry from its ``.bak``; the held table must then hold the post once (the store
recognises the same message for the same list), the moderators get one notice (written
again with the same Message-ID, sent once) and nothing may be left in a queue.

Pipeline: after-delivery counts the post (the list's ``post_id``) and to-outgoing
queues it; the runner dies between the two, and once more right after the enqueue.
Every post must be delivered once (the outgoing runner's delivery record finds the
redone post's recipients done), and the counter must equal the number of posts: a
redone post keeps the number it was counted with.  On a list whose subject shows no
number, posts are counted from blocks reserved ahead: the kills leave gaps, never a
number twice, so the counter ends past the number of posts by at most those gaps.
"""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

from posthorn.config import load_config
from posthorn.model.post_counts import BLOCK_MAX
from posthorn.site import Site
from tests.faults.stack import LIST, Outcome, Poster, Stack, build
from tests.faults.test_handlers import POSTING
from tests.waiting import wait_for

LIST_ID = "chaos.example.org"
POSTS = 6


def _site(stack_file: Path) -> Site:
    return Site(load_config(stack_file))


def _subjects(stack: Stack) -> dict[str, str]:
    """Message-ID -> the subject prefix every delivered copy shows (one, or fail)."""
    seen: dict[str, set[str]] = {}
    with stack.sink.lock:
        for _, _, content in stack.sink.received:
            msg = message_from_bytes(content)
            prefix = str(msg["subject"]).split("]")[0] + "]"
            seen.setdefault(str(msg["message-id"]), set()).add(prefix)
    assert all(len(prefixes) == 1 for prefixes in seen.values()), seen
    return {mid: prefixes.pop() for mid, prefixes in seen.items()}


def test_incoming_killed_right_after_a_hold(tmp_path: Path) -> None:
    stack = build(tmp_path, 2)
    site = _site(stack.site_file)
    site.lists.update(LIST, posting_chain="tests.faults.crash:HoldThenCrash")
    site.close()
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        for n in range(POSTS):
            poster.post(n)

        def all_held() -> bool:
            site = _site(stack.site_file)
            try:
                return site.messages.held_count(LIST_ID) >= POSTS
            finally:
                site.close()

        wait_for(all_held, "every post held", 30)
        assert (stack.var_dir / "crashed-hold-then-crash").exists()
        wait_for(lambda: not stack.queue_files("incoming"), "an empty incoming queue")
        site = _site(stack.site_file)
        try:
            held = [h.message_id for h in site.messages.held_for_list(LIST_ID)]
        finally:
            site.close()

        # The moderators' notices (one owner) reach the sink; a redone hold sends one again.
        def notices_sent() -> int:
            with stack.sink.lock:
                return sum("owner@example.org" in rcpts for _, rcpts, _ in stack.sink.received)

        wait_for(lambda: notices_sent() >= POSTS, "the moderators' notices")
        notices = notices_sent()
        print(f"hold + SIGKILL: {len(poster.accepted)} posts, {len(held)} held rows, "
              f"{len(set(held))} distinct, {notices} notices, "
              f"{len(list((stack.var_dir / 'queue').glob('*/*.bak')))} claimed left")  # fmt: skip
        assert sorted(held) == sorted(poster.accepted)
        assert notices == POSTS  # the redone hold's notice has the same Message-ID
        assert "held" in stack.log("incoming")
    finally:
        stack.stop()
        stack.sink.stop()


def _crashing_stack(tmp_path: Path, subject_prefix: str) -> Stack:
    handlers = (
        POSTING.format("dmarc")
        .replace("after-delivery,", "after-delivery, tests.faults.crash:CrashAfterCount,")
        .replace("dmarc, dmarc,", "dmarc,")
        + ", tests.faults.crash:CrashAfterEnqueue"
    )
    stack = build(tmp_path, 3, extra={"pipeline.posting": {"handlers": handlers}})
    site = _site(stack.site_file)
    site.lists.update(LIST, subject_prefix=subject_prefix)
    site.close()
    return stack


def _posts_through_two_kills(stack: Stack) -> tuple[Poster, Outcome]:
    """Start the stack and post; the pipeline is killed after a count, then after an
    enqueue.  The posts accepted, and their outcome once delivered."""
    stack.start()
    poster = Poster(stack.lmtp_port)
    for n in range(POSTS):
        poster.post(n)
    outcome = stack.wait_delivered(poster.accepted, 30)
    for name in ("crash-after-count", "crash-after-enqueue"):
        assert (stack.var_dir / f"crashed-{name}").exists()
    return poster, outcome


def _post_id(stack: Stack) -> int:
    site = _site(stack.site_file)
    try:
        return site.lists.require(LIST_ID).post_id
    finally:
        site.close()


def test_pipeline_killed_between_count_and_enqueue(tmp_path: Path) -> None:
    stack = _crashing_stack(tmp_path, "[chaos %d]")
    try:
        poster, outcome = _posts_through_two_kills(stack)
        site = _site(stack.site_file)
        try:
            mlist = site.lists.get(LIST_ID)
            assert mlist is not None
            counted = mlist.post_id - 1
        finally:
            site.close()
        print(f"pipeline + 2 SIGKILLs: {len(poster.accepted)} posts, "
              f"{outcome.expected - len(outcome.missing)}/{outcome.expected} delivered, "
              f"{outcome.duplicates} extra copies, post counter {counted}")  # fmt: skip
        assert outcome.missing == []
        assert outcome.duplicates == 0  # the redone post finds its recipients done
        assert counted == POSTS
        # Every copy of a post, the redone ones too, shows the post's one number.
        assert sorted(set(_subjects(stack).values())) == [
            f"[chaos {n}]" for n in range(1, POSTS + 1)
        ]
    finally:
        stack.stop()
        stack.sink.stop()


def test_pipeline_killed_while_counting_from_a_block(tmp_path: Path) -> None:
    stack = _crashing_stack(tmp_path, "[chaos]")
    try:
        poster, outcome = _posts_through_two_kills(stack)
        assert outcome.missing == [] and outcome.duplicates == 0
        before_stop = _post_id(stack)
    finally:
        stack.stop()
        stack.sink.stop()
    counted = _post_id(stack) - 1
    print(f"pipeline + 2 SIGKILLs, unnumbered subjects: {len(poster.accepted)} posts, "
          f"post counter {before_stop - 1} running, {counted} stopped")  # fmt: skip
    # Each kill left its block's numbers unused (and its redone post counted again);
    # the stop gave back what the last runner held.
    assert POSTS <= counted <= POSTS + 2 * (BLOCK_MAX + 1)
    assert counted <= before_stop - 1
