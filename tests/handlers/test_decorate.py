"""decorate on a multipart/mixed whose body never parsed into parts."""

from __future__ import annotations

from email import message_from_bytes

from posthorn.handlers.decorate import decorate
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site

UNPARSED = (
    b"From: a@example.net\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="nope"\r\n\r\n--other\r\nhello\r\n'
)


def test_multipart_without_parts_is_wrapped_whole(site: Site, mlist: IMailingList) -> None:
    mlist = site.lists.update(mlist, header_text="HEAD", footer_text="FOOT")
    msg = message_from_bytes(UNPARSED)
    assert isinstance(msg.get_payload(), str)
    decorate(mlist, msg)
    parsed = message_from_bytes(msg.as_bytes())
    parts = parsed.get_payload()
    assert isinstance(parts, list)
    assert [p.get_content_type() for p in parts] == ["text/plain", "multipart/mixed", "text/plain"]
    assert "--other" in str(parts[1].get_payload())
    assert parts[0].get_payload().strip() == "HEAD"
    assert parts[2].get_payload().strip() == "FOOT"
