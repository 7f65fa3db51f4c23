"""The MTA refuses posts as a whole: each is parked on ``dead``, the owners hear once.

A content filter answers 554 (or "500 line too long") after DATA for every message that
carries a marker; a policy answers 550 at MAIL FROM for every message.  Before, the
outgoing runner wrapped the refused post in a notice to the owners, the MTA refused the
notice for the same reason, a notice about the notice followed, and so on, hundreds of
transactions until a RecursionError shunted one.  Now a refused post goes to queue
``dead`` with the reason, the owners get one notice that names it without carrying it,
a notice is never the subject of another, and no member is scored for a bounce.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from posthorn.queues.entry import decode
from tests.faults.stack import Poster, Stack, build, make_post
from tests.faults.test_handlers import POSTING
from tests.waiting import wait_for

POSTS = 3
MARKER = b"FORBIDDEN-CONTENT"
OWNER = "owner@example.org"


def _refused_post(n: int) -> bytes:
    return make_post(f"<refused-{n}@example.net>", n).replace(
        b"Body line 0", b"Body line 0 " + MARKER
    )


def _post_all(stack: Stack) -> list[str]:
    poster = Poster(stack.lmtp_port)
    return [
        poster.post(n, _refused_post(n), mid=f"<refused-{n}@example.net>") for n in range(POSTS)
    ]


def _dead(stack: Stack) -> list[dict[str, object]]:
    return [decode(path.read_bytes())[1] for path in stack.queue_files("dead")]


def _owner_notices(stack: Stack) -> int:
    with stack.sink.lock:
        return sum(OWNER in rcpts for _, rcpts, _ in stack.sink.received)


def _settled(stack: Stack, dead: int) -> None:
    """Wait for ``dead`` entries, then until every queue is empty: a storm never gets there."""
    what = f"{dead} dead entries (MTA transactions so far: {stack.sink.mails})"
    try:
        wait_for(lambda: len(stack.queue_files("dead")) >= dead, what, 30)
    except AssertionError as error:
        raise AssertionError(f"{error}; {stack.sink.mails} MTA transactions by then") from None
    stack.wait_idle()


@pytest.mark.parametrize("reply", ["554 5.7.1 Message content refused", "500 5.5.2 Line too long"])
def test_a_refused_post_is_parked_and_the_owners_hear_once(tmp_path: Path, reply: str) -> None:
    stack = build(tmp_path, 3)
    stack.sink.refuse_data = lambda content: reply if MARKER in content else None
    try:
        stack.start()
        posted = _post_all(stack)
        _settled(stack, POSTS)
        wait_for(lambda: _owner_notices(stack) >= POSTS, "the owners' notices")
        stack.wait_idle()
        dead = _dead(stack)
        print(f"refused after DATA ({reply}): {len(posted)} posts, {stack.sink.mails} "
              f"transactions, {len(stack.sink.refused)} refused, {len(dead)} dead, "
              f"{_owner_notices(stack)} owner notices")  # fmt: skip
        assert sorted(str(d["whichq"]) for d in dead) == ["outgoing"] * POSTS
        assert all(str(d["dead_reason"]) == reply for d in dead)
        assert len(stack.sink.refused) == POSTS
        assert _owner_notices(stack) == POSTS
        # The notice names the post but does not carry it (the filter would refuse it).
        for _, _, content in stack.sink.received:
            assert MARKER not in content
            assert b"X-Posthorn-Notice:" in content
        assert stack.sink.mails == 2 * POSTS
        assert not stack.queue_files("bounce") and not stack.queue_files("shunt")
        assert "RecursionError" not in stack.log("outgoing")
    finally:
        stack.stop()
        stack.sink.stop()


def test_a_refused_notice_brings_no_notice_about_it(tmp_path: Path) -> None:
    stack = build(tmp_path, 3)
    stack.sink.mode = "550"  # every sender refused: the posts and the notices alike
    try:
        stack.start()
        _post_all(stack)
        _settled(stack, 2 * POSTS)
        dead = _dead(stack)
        notices = [d for d in dead if d.get("notice")]
        print(f"refused at MAIL FROM: {POSTS} posts, {stack.sink.mails} transactions, "
              f"{len(dead)} dead ({len(notices)} notices)")  # fmt: skip
        assert stack.sink.mails == 2 * POSTS
        assert len(dead) == 2 * POSTS and len(notices) == POSTS
        assert all(str(d["dead_reason"]).startswith("550") for d in dead)
        assert not stack.queue_files("bounce") and not stack.queue_files("shunt")
    finally:
        stack.stop()
        stack.sink.stop()


def test_a_forged_notice_mark_does_not_silence_the_owners(tmp_path: Path) -> None:
    stack = build(tmp_path, 2)
    stack.sink.refuse_data = lambda content: (
        "554 5.7.1 Message content refused" if MARKER in content else None
    )
    forged = _refused_post(0).replace(b"Subject:", b"X-Posthorn-Notice: held\r\nSubject:")
    try:
        stack.start()
        Poster(stack.lmtp_port).post(0, forged, mid="<refused-0@example.net>")
        _settled(stack, 1)
        wait_for(lambda: _owner_notices(stack) >= 1, "the owners' notice")
        assert _owner_notices(stack) == 1
    finally:
        stack.stop()
        stack.sink.stop()


def test_a_refused_post_redone_upstream_is_parked_and_notified_once(tmp_path: Path) -> None:
    handlers = POSTING.format("dmarc").replace("dmarc, dmarc,", "dmarc,")
    handlers += ", tests.faults.crash:CrashAfterEnqueue"
    stack = build(tmp_path, 3, extra={"pipeline.posting": {"handlers": handlers}})
    stack.sink.refuse_data = lambda content: (
        "554 5.7.1 Message content refused" if MARKER in content else None
    )
    try:
        stack.start()
        _post_all(stack)
        _settled(stack, POSTS)
        assert (stack.var_dir / "crashed-crash-after-enqueue").exists()
        wait_for(lambda: _owner_notices(stack) >= POSTS, "the owners' notices")
        stack.wait_idle()
        print(f"refused, pipeline killed after its hand-over: {POSTS} posts, "
              f"{len(_dead(stack))} dead, {_owner_notices(stack)} owner notices")  # fmt: skip
        assert len(_dead(stack)) == POSTS
        assert _owner_notices(stack) == POSTS
    finally:
        stack.stop()
        stack.sink.stop()
