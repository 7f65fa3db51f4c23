"""Unit tests of the posting handlers on a real list, without runners."""

from __future__ import annotations

from email import message_from_string
from email.message import Message
from typing import Any

from posthorn.delivery.wire import to_wire
from posthorn.handlers.after_delivery import AfterDelivery
from posthorn.handlers.cleanse import Cleanse
from posthorn.handlers.cook_headers import CookHeaders
from posthorn.handlers.subject_prefix import SubjectPrefix, add_prefix, decoded_subject
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.messages import message_id_hash
from posthorn.runners.pipeline import PipelineRunner
from posthorn.site import Site
from tests.waiting import drain

RAW = """\
From: a@example.net
To: dev@example.org
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
Message-ID: <abc@example.net>
Approved: secret
Return-Receipt-To: a@example.net

Body.
"""


def context(site: Site, queued: list[tuple[str, Message, dict[str, Any]]]) -> HandlerContext:
    return HandlerContext(site, lambda q, m, d: queued.append((q, m, d)) or "x")


def test_add_prefix_never_doubles_and_numbers() -> None:
    assert add_prefix("Re: [dev] hi", "[dev]", 3) == "[dev] Re: hi"
    assert add_prefix("[dev 12] Re: hi", "[dev %d]", 13) == "[dev 13] Re: hi"
    assert add_prefix("", "[dev]", 1) == "[dev] (no subject)"


def test_cleanse_subject_prefix_and_cook_headers(site: Site) -> None:
    mlist = site.lists.create("dev@example.org")
    queued: list[tuple[str, Message, dict[str, Any]]] = []
    ctx = context(site, queued)
    msg = message_from_string(RAW)
    data: dict[str, Any] = {}
    for handler in (Cleanse(ctx), SubjectPrefix(ctx), CookHeaders(ctx)):
        handler.process(mlist, msg, data)
    assert msg["approved"] is None and msg["return-receipt-to"] is None
    assert decoded_subject(msg) == "[Dev] Grüße"
    assert msg["Message-ID-Hash"] == message_id_hash("abc@example.net")
    assert msg["List-Id"].endswith("<dev.example.org>")
    assert msg["List-Unsubscribe"] == "<mailto:dev-leave@example.org>"
    assert msg["Archived-At"] is None


def test_a_redone_post_keeps_its_number(site: Site) -> None:
    mlist = site.lists.update(site.lists.create("dev@example.org"), subject_prefix="[dev %d]")
    ctx = context(site, [])
    subjects = []
    # The second round is the same entry redone after a kill that followed the count.
    for _ in range(2):
        msg = message_from_string(RAW)
        for handler in (SubjectPrefix(ctx), AfterDelivery(ctx)):
            handler.process(mlist, msg, {})
        subjects.append(decoded_subject(msg))
    assert subjects == ["[dev 1] Grüße", "[dev 1] Grüße"]
    assert site.lists.require(mlist).post_id == 2


def test_a_post_whose_number_is_shown_nowhere_counts_from_a_block(site: Site) -> None:
    mlist = site.lists.create("dev@example.org")  # subject prefix "[Dev]": no number
    handler = AfterDelivery(context(site, []))
    for n in range(10):
        handler.process(mlist, message_from_string(f"Message-ID: <{n}@example.net>\n\n"), {})
    # Counted from blocks reserved ahead: post_id is past every post, exact once the
    # numbers left are given back (the pipeline runner does it between entries).
    assert site.lists.require(mlist).post_id > 11
    site.lists.settle_posts(0.0)
    assert site.lists.require(mlist).post_id == 11


def test_a_pipeline_drain_leaves_the_counter_exact(site: Site) -> None:
    mlist = site.lists.create("dev@example.org")
    runner = PipelineRunner(site, "pipeline")
    for n in range(5):
        msg = message_from_string(f"From: a@example.net\nMessage-ID: <{n}@example.net>\n\nHi\n")
        runner.switchboard.enqueue(msg, {"list_id": mlist.list_id})
    try:
        assert drain(runner) == 5
    finally:
        runner.close()
    assert site.lists.require(mlist).post_id == 6


def test_wire_form_has_crlf_and_short_lines() -> None:
    msg = message_from_string("Subject: x\n\n" + "y" * 3000 + "\n")
    data = to_wire(msg)
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


def test_cook_headers_replaces_the_posts_own_list_fields_in_their_order(site: Site) -> None:
    mlist = site.lists.update(
        site.lists.create("dev@example.org"),
        first_strip_reply_to=True,
        reply_goes_to_list="point_to_list",
    )
    own = (
        "List-Id: <other.example.com>\nX-BeenThere: other@example.com\nPrecedence: bulk\n"
        "Archived-At: <http://example.com/x>\nReply-To: a@example.net\nList-Post: <mailto:x>\n"
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\nX-Kept: yes\n"
    )
    msg = message_from_string(RAW.replace("Approved: secret\n", own))
    CookHeaders(context(site, [])).process(mlist, msg, {})
    assert msg.keys() == [
        "From", "To", "Subject", "Message-ID", "X-Kept", "Return-Receipt-To",
        "X-BeenThere", "Precedence", "Message-ID-Hash", "X-Message-ID-Hash", "Reply-To",
        "List-Id", "List-Help", "List-Post", "List-Subscribe", "List-Unsubscribe", "List-Owner",
    ]  # fmt: skip
    assert msg["Reply-To"] == "Dev <dev@example.org>"
    assert msg["X-BeenThere"] == "dev@example.org" and msg["Precedence"] == "list"
