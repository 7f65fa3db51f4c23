"""mime-delete: filtering by type and extension, collapsing, HTML to text, empty posts."""

from __future__ import annotations

from email.message import EmailMessage, Message
from typing import Any

import pytest

from posthorn.handlers.mime_delete import MimeDelete
from posthorn.interfaces.handlers import (
    DiscardMessage,
    HandlerContext,
    HoldMessage,
    RejectMessage,
)
from posthorn.interfaces.lists import IMailingList
from posthorn.queues import Switchboard
from posthorn.runners.pipeline import PipelineRunner
from posthorn.site import Site
from tests.handlers.conftest import Queued


def plain(text: str = "Hello.\n", charset: str = "utf-8") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "anne@example.net"
    msg["Subject"] = "hi"
    msg.set_content(text, charset=charset)
    return msg


def mixed() -> EmailMessage:
    msg = plain()
    msg.add_attachment(b"MZ\x00", maintype="application", subtype="octet-stream",
                       filename="run.exe")  # fmt: skip
    msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="a.pdf")
    return msg


def alternative() -> EmailMessage:
    msg = plain("Plain words.\n")
    msg.add_alternative("<p>Rich <b>words</b></p>", subtype="html")
    return msg


def run(
    site: Site, ctx: HandlerContext, mlist: IMailingList, msg: Message, **settings: Any
) -> IMailingList:
    mlist = site.lists.update(mlist, filter_content=True, **settings)
    MimeDelete(ctx).process(mlist, msg, {})
    return mlist


def types(msg: Message) -> list[str]:
    return [part.get_content_type() for part in msg.walk()]


def test_nothing_happens_unless_the_list_filters(ctx: HandlerContext, mlist: IMailingList) -> None:
    msg = mixed()
    MimeDelete(ctx).process(mlist, msg, {})
    assert len(types(msg)) == 4 and msg["X-Content-Filtered-By"] is None


def test_plain_text_passes_untouched(site: Site, ctx: HandlerContext, mlist: IMailingList) -> None:
    msg = plain("Grüße\n", "iso-8859-1")
    run(site, ctx, mlist, msg, pass_types=["text/plain"])
    assert types(msg) == ["text/plain"] and msg.get_content_charset() == "iso-8859-1"
    assert msg.get_payload(decode=True).decode("iso-8859-1") == "Grüße\n"
    assert msg["X-Content-Filtered-By"] is None


def test_filter_types_and_extensions_drop_parts_of_a_mixed_post(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    msg = mixed()
    run(site, ctx, mlist, msg, filter_types=["application/pdf"], filter_extensions=["exe"])
    assert types(msg) == ["text/plain"]
    assert msg.get_payload(decode=True) == b"Hello.\n"
    assert msg["X-Content-Filtered-By"] == "Posthorn"


def test_pass_types_and_pass_extensions_keep_only_what_they_name(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    msg = mixed()
    run(site, ctx, mlist, msg, pass_types=["text", "application"], pass_extensions=["pdf"])
    assert types(msg) == ["multipart/mixed", "text/plain", "application/pdf"]


def test_alternatives_collapse_to_the_plain_part(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    msg = alternative()
    run(site, ctx, mlist, msg, collapse_alternatives=True)
    assert types(msg) == ["text/plain"]
    assert msg.get_payload(decode=True) == b"Plain words.\n"


def test_html_becomes_plain_text_when_asked(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    msg = EmailMessage()
    msg["From"] = "anne@example.net"
    msg.set_content("<html><head><style>p{}</style></head><p>Grüße <a href='https://x.org/'>"
                    "here</a></p><ul><li>one</li></ul></html>", subtype="html")  # fmt: skip
    run(site, ctx, mlist, msg, convert_html_to_plaintext=True)
    assert msg.get_content_type() == "text/plain" and msg.get_content_charset() == "utf-8"
    text = msg.get_payload(decode=True).decode()
    assert text == "Grüße here <https://x.org/>\n\n* one\n"


def test_alternative_kept_when_not_collapsing(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    msg = alternative()
    run(site, ctx, mlist, msg, collapse_alternatives=False, filter_types=["text/html"])
    assert types(msg) == ["text/plain"]


@pytest.mark.parametrize(
    ("action", "raised"),
    [("discard", DiscardMessage), ("reject", RejectMessage), ("defer", DiscardMessage)],
)
def test_a_post_left_empty_gets_the_filter_action(
    site: Site, ctx: HandlerContext, mlist: IMailingList, action: str, raised: type[Exception]
) -> None:
    with pytest.raises(raised):
        run(site, ctx, mlist, plain(), filter_types=["text"], filter_action=action)


def test_hold_hands_the_post_as_it_arrived_to_the_pipeline(
    site: Site, ctx: HandlerContext, mlist: IMailingList, queued: Queued
) -> None:
    msg = mixed()
    with pytest.raises(HoldMessage) as hold:
        run(site, ctx, mlist, msg, filter_types=["text", "application"], filter_action="hold")
    assert "no content left" in hold.value.reason
    assert hold.value.original is not None and "run.exe" in hold.value.original.as_string()
    # The handler decides nothing more: no held message, no notice of its own.
    assert site.messages.held_for_list(mlist.list_id) == [] and queued == []


def test_the_pipeline_runner_holds_it_and_tells_the_moderators(
    site: Site, mlist: IMailingList
) -> None:
    mlist = site.lists.update(
        mlist, admin_immed_notify=True, filter_content=True,
        filter_types=["text", "application"], filter_action="hold",
    )  # fmt: skip
    msg = mixed()
    msg["Message-ID"] = "<filtered@example.net>"
    runner = PipelineRunner(site, "pipeline")
    runner.process(mlist, msg, {"list_id": mlist.list_id, "pipeline": "default-posting-pipeline"})
    [held] = site.messages.held_for_list(mlist.list_id)
    assert "no content left" in held.reason
    assert b"run.exe" in held.raw and "moderator_approved" not in held.msgdata
    virgin = Switchboard(site.config.path("queue_dir") / "virgin", name="virgin")
    recipients = [virgin.dequeue_raw(f)[1]["recipients"] for f in virgin.files]
    assert ["owner@example.org"] in recipients


def test_a_post_a_moderator_accepted_is_not_filtered_again(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    mlist = site.lists.update(
        mlist, filter_content=True, filter_types=["text"], filter_action="hold"
    )
    msg = plain()
    MimeDelete(ctx).process(mlist, msg, {"moderator_approved": True})
    assert types(msg) == ["text/plain"]
    assert site.messages.held_for_list(mlist.list_id) == []


def test_forward_sends_the_post_to_the_owners_and_discards_it(
    site: Site, ctx: HandlerContext, mlist: IMailingList, queued: Queued
) -> None:
    with pytest.raises(DiscardMessage):
        run(site, ctx, mlist, plain("Forward me.\n"), filter_types=["text"],
            filter_action="forward")  # fmt: skip
    [(queue, notice, data)] = queued
    assert queue == "virgin" and data["recipients"] == ["owner@example.org"]
    assert notice["Subject"] == "Content filter message notification"
    attached = notice.get_payload()[1].get_payload()[0]
    assert attached.get_payload(decode=True) == b"Forward me.\n"


def test_preserve_keeps_a_private_copy_and_discards_the_post(
    site: Site, ctx: HandlerContext, mlist: IMailingList, queued: Queued
) -> None:
    with pytest.raises(DiscardMessage):
        run(site, ctx, mlist, plain("Keep me.\n"), filter_types=["text"],
            filter_action="preserve")  # fmt: skip
    directory = site.config.path("data_dir") / "preserved"
    [kept] = list(directory.iterdir())
    assert kept.suffix == ".eml" and b"Keep me." in kept.read_bytes()
    assert kept.stat().st_mode & 0o777 == 0o600 and queued == []
