"""mime-delete: filtering by type and extension, collapsing, HTML to text, empty posts."""

from __future__ import annotations

from email.message import EmailMessage, Message
from typing import Any

import pytest

from posthorn.handlers.mime_delete import MimeDelete
from posthorn.interfaces.handlers import DiscardMessage, HandlerContext, RejectMessage
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site


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
    [("discard", DiscardMessage), ("reject", RejectMessage), ("hold", DiscardMessage)],
)
def test_a_post_left_empty_gets_the_filter_action(
    site: Site, ctx: HandlerContext, mlist: IMailingList, action: str, raised: type[Exception]
) -> None:
    with pytest.raises(raised):
        run(site, ctx, mlist, plain(), filter_types=["text"], filter_action=action)
