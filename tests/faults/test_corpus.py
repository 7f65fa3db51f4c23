"""A malformed-mail corpus posted through LMTP: every message ends up somewhere named.

CPython's own email test data (``test/test_email/data/msg_*.txt``, when the standard
library's tests are installed) plus generated cases: broken MIME boundaries, a 1 MB
header, a 10,000-part multipart, an invalid charset, NUL bytes, missing headers.
Each message must be delivered, held, refused at LMTP (5xx with a reason) or moved to
``bad`` with a reason (none may be shunted); no runner may exhaust its restart budget, and nothing
may hang (the whole case has a deadline).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import test  # type: ignore[import-not-found]

from posthorn.cli.where import in_queues
from posthorn.config import load_config
from posthorn.queues.store import FileStore
from posthorn.site import Site
from tests.faults.stack import LIST, POSTER, Poster, Stack, build
from tests.waiting import wait_for

DEADLINE = 60.0


def _generated() -> dict[str, bytes]:
    head = f"From: {POSTER}\r\nTo: {LIST}\r\n"
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {n}\r\n" for n in range(10_000))
    return {
        "broken-boundary": (
            head + "Subject: broken\r\nContent-Type: multipart/mixed; "
            'boundary="nope"\r\n\r\n--other\r\nhello\r\n'
        ).encode(),
        "huge-header": (
            head + "Subject: huge\r\nX-Big: " + "a" * 1_000_000 + "\r\n\r\nhi\r\n"
        ).encode(),
        "many-parts": (
            head
            + 'Subject: parts\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
            + parts
            + "--b--\r\n"
        ).encode(),
        "bad-charset": (
            head + "Subject: =?x-no-such?q?caf=E9?=\r\nContent-Type: text/plain; "
            "charset=x-no-such\r\n\r\ncaf\xe9\r\n"
        ).encode("latin-1"),
        "nul-bytes": (head + "Subject: nul\x00here\r\n\r\nbody\x00with nul\r\n").encode(),
        "no-headers": b"\r\njust a body\r\n",
        "no-from": f"To: {LIST}\r\nSubject: anonymous\r\n\r\nwho sent this?\r\n".encode(),
        "no-message-id": (head + "Subject: no id\r\n\r\nbody\r\n").encode(),
    }


def _stdlib_corpus() -> dict[str, bytes]:
    data = Path(os.path.dirname(test.__file__)) / "test_email" / "data"
    return {path.stem: path.read_bytes() for path in sorted(data.glob("msg_*.txt"))}


def _with_id(name: str, raw: bytes) -> tuple[str, bytes]:
    """Give each message a known Message-ID (replacing its own) so it can be traced."""
    mid = f"<corpus-{name}@example.net>"
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    raw = re.sub(rb"(?im)^message-id:.*\r\n", b"", raw, count=1)
    if name in ("no-headers", "no-message-id"):
        return mid, raw
    return mid, f"Message-ID: {mid}\r\n".encode() + raw


def test_malformed_corpus_has_a_named_fate(tmp_path: Path) -> None:
    stack = build(tmp_path, 2)
    corpus = {**_stdlib_corpus(), **_generated()}
    assert len(corpus) > 50, "the standard library's email test data is missing"
    try:
        stack.start()
        poster = Poster(stack.lmtp_port, prefix="corpus")
        mids = {}
        for n, (name, raw) in enumerate(corpus.items()):
            mid, body = _with_id(name, raw)
            poster.post(n, body, deadline=20, mid=mid)
            mids[name] = mid
        # Unaccounted messages are reported below, so a timeout here is not the failure.
        with contextlib.suppress(AssertionError):
            wait_for(lambda: all(_fates(stack, poster, mids).values()), "every fate", DEADLINE)
        fates = _fates(stack, poster, mids)
        summary: dict[str, int] = {}
        for fate in fates.values():
            summary[fate or "unaccounted"] = summary.get(fate or "unaccounted", 0) + 1
        print(f"corpus of {len(corpus)}: {summary}")
        for line in stack.log("incoming").splitlines() + stack.log("pipeline").splitlines():
            if ": shunted " in line:
                print("  ", line.split(": ", 2)[-1])
        for mid, reason in poster.refused.items():
            print("  refused", mid, reason)
        lost = [name for name, fate in fates.items() if not fate]
        assert lost == [], f"no fate for {lost}"
        # A multipart/mixed that did not parse into parts is decorated whole, and an
        # unknown charset is read as UTF-8: nothing in this corpus needs a shunt.
        shunted = [name for name, fate in fates.items() if fate == "shunted"]
        assert shunted == [], f"shunted: {shunted}"
        state = stack.state()
        assert all(r["state"] != "given-up" for r in state["runners"])
        for name in ("incoming", "pipeline", "outgoing"):
            assert "crashed" not in stack.log(name)
    finally:
        stack.stop()
        stack.sink.stop()


def _fates(stack: Stack, poster: Poster, mids: dict[str, str]) -> dict[str, str]:
    """Each message's fate as ``posthorn where`` and the sink see it ("" if none yet)."""
    with stack.sink.lock:
        delivered = {mid for mid, _ in stack.sink.copies}
    site = Site(load_config(stack.site_file))
    try:
        holds = site.messages.held_for_list("chaos.example.org")
        held = {h.message_id.strip() for h in holds}
        held_raw = b"".join(h.raw for h in holds)
    finally:
        site.close()
    queue_dir = stack.var_dir / "queue"
    fates = {}
    for name, mid in mids.items():
        where = " ".join(in_queues(FileStore(queue_dir), mid))
        if mid in poster.refused:
            fates[name] = "refused"
        elif mid in delivered:
            fates[name] = "delivered"
        elif mid in held:
            fates[name] = "held"
        elif "queue shunt" in where:
            fates[name] = "shunted"
        elif "queue bad" in where:
            fates[name] = "bad"
        elif name == "no-message-id":
            # Incoming gives it a Message-ID of its own; it is traced by subject instead.
            fates[name] = "delivered" if _subject_delivered(stack, b"no id") else ""
        elif name == "no-headers":
            # Nothing to trace it by but its body; LMTP gives it the headers it needs.
            fates[name] = "held" if b"just a body" in held_raw else ""
        else:
            fates[name] = ""
    return fates


def _subject_delivered(stack: Stack, subject: bytes) -> bool:
    with stack.sink.lock:
        return any(subject in content for _, _, content in stack.sink.received)
