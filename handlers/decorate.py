"""Add the list's header and footer texts to the message, without breaking its MIME.

The texts are the list settings ``header_text`` and ``footer_text``, unless a front end
stored the list's ``list:member:regular:header`` / ``:footer`` template by URI (for the
list, its domain or the site; see docs/template-uris.md), as Postorius does when an
owner edits the footer.  Placeholders are ``$list_name``, ``$display_name``,
``$fqdn_listname`` (``$listname``), ``$list_id``, ``$mail_host``, ``$listinfo_uri``,
``$request_email``, ``$owner_email``, ``$description``, ``$info``, and for
personalized lists also ``$user_address`` and ``$member_id`` (unknown names stay as
written).  A single-part text/plain message gets the texts joined to its body in its
own charset (UTF-8 when the text does not fit it); multipart/mixed gets them as inline
parts; anything else becomes the first part of a new multipart/mixed, so no client ever
sees a broken message; a text with lines over 998 octets is made quoted-printable.
Personalized lists are decorated per recipient by the outgoing runner (``decorate``);
this handler then only leaves ``msgdata["decorate_per_recipient"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.charset import BASE64, QP, Charset
from email.message import Message
from email.mime.text import MIMEText
from string import Template
from typing import Any

from posthorn.delivery.wire import requote
from posthorn.handlers.base import Handler
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.messages.settext import set_text
from posthorn.remote_templates import RemoteTemplates

__all__ = ["FOOTER", "HEADER", "Decorate", "decorate", "list_vars"]

# A front end's texts for the two, by Mailman's template names.
HEADER = "list:member:regular:header"
FOOTER = "list:member:regular:footer"


def list_vars(mlist: IMailingList) -> dict[str, str]:
    """The placeholders every list text may use."""
    return {
        "list_name": mlist.list_name,
        "short_listname": mlist.list_name,
        "display_name": mlist.display_name or mlist.list_name,
        "fqdn_listname": mlist.fqdn_listname,
        "listname": mlist.fqdn_listname,
        "list_id": mlist.list_id,
        "mail_host": mlist.mail_host,
        "domain": mlist.mail_host,
        "listinfo_uri": f"mailto:{mlist.request_address}?subject=help",
        "request_email": mlist.request_address,
        "owner_email": mlist.owner_address,
        "leave_email": mlist.leave_address,
        "description": mlist.description,
        "info": mlist.info,
    }


def _charset_of(part: Message) -> str:
    charset = part.get_content_charset() or "us-ascii"
    try:
        "".encode(charset)
    except LookupError:
        return "utf-8"
    return charset


def _join_plain(msg: Message, header: str, footer: str) -> bool:
    """Join the texts to a single text/plain body; False if it cannot be decoded."""
    charset = _charset_of(msg)
    raw = msg.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return False
    try:
        body = raw.decode(charset)
    except UnicodeDecodeError:
        return False
    if body and not body.endswith("\n"):
        body += "\n"
    text = (header + "\n" if header else "") + body + (footer + "\n" if footer else "")
    try:
        encoded = text.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
        encoded = text.encode(charset)
    was = str(msg.get("content-transfer-encoding", "7bit")).strip().lower()
    del msg["content-transfer-encoding"]
    # As set_payload, which keeps the Content-Type field and its other parameters
    # (format=, delsp=), changing only charset: setting each parameter again would
    # parse them all once per parameter, quadratic in a hostile header.
    set_text(msg, text, _body_charset(charset, was, encoded))
    requote(msg)
    return True


def _body_charset(name: str, was: str, encoded: bytes) -> Charset:
    """The charset to write the body with, in the transfer encoding the post came in.

    The email package would pick base64 for UTF-8, and a plain post would then reach
    every reader as an opaque block: ASCII stays 7bit, 8bit text stays 8bit, and only
    a post that came base64 goes out base64; anything else becomes quoted-printable.
    """
    charset = Charset(name)
    if was == "base64":
        charset.body_encoding = BASE64
    elif encoded.isascii() or (was == "8bit" and name.lower() not in ("us-ascii", "ascii")):
        charset.body_encoding = None  # type: ignore[assignment]  # None: no encoding, as documented
    else:
        charset.body_encoding = QP
    return charset


def _text_part(text: str) -> Message:
    charset = "us-ascii" if text.isascii() else "utf-8"
    part = MIMEText(text if text.endswith("\n") else text + "\n", "plain", charset)
    del part["mime-version"]
    part["Content-Disposition"] = "inline"
    requote(part)
    return part


def _wrap(msg: Message) -> None:
    """Move the content of ``msg`` into a part of its own inside a multipart/mixed."""
    inner = Message()
    for name, value in msg.items():
        if name.lower().startswith("content-"):
            inner[name] = value
    # get_payload() would decode an 8-bit body in its declared charset, with
    # replacement characters when that is unknown, and the result could no longer be
    # written as bytes; the body moves as it was parsed, undecoded.
    inner.set_payload(vars(msg)["_payload"])
    inner.preamble, inner.epilogue = msg.preamble, msg.epilogue
    msg.preamble = msg.epilogue = None
    for name in {key.lower() for key in msg if key.lower().startswith("content-")}:
        del msg[name]
    if msg.get("mime-version") is None:
        msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = "multipart/mixed"
    msg.set_payload([inner])


def decorate(
    mlist: IMailingList,
    msg: Message,
    extra: Mapping[str, str] | None = None,
    *,
    texts: Mapping[str, str] | None = None,
) -> None:
    """Add the list's header and footer texts to ``msg`` in place.

    ``texts`` are a front end's texts by Mailman template name, which win over the
    list's settings.
    """
    values = {**list_vars(mlist), **(extra or {})}
    header_text = (texts or {}).get(HEADER, mlist.header_text)
    footer_text = (texts or {}).get(FOOTER, mlist.footer_text)
    header = Template(header_text).safe_substitute(values).strip("\n")
    footer = Template(footer_text).safe_substitute(values).strip("\n")
    if not header and not footer:
        return
    if msg.get_content_type() == "text/plain" and not msg.is_multipart():
        disposition = str(msg.get("content-disposition", "inline")).lower()
        if disposition.startswith("inline") and _join_plain(msg, header, footer):
            return
    # A multipart/mixed whose body did not parse into parts (no boundary, or one the
    # body never uses) has a string payload: it is wrapped whole, like any other
    # content, and sent on verbatim inside a well-formed multipart/mixed.
    if msg.get_content_type() != "multipart/mixed" or not isinstance(msg.get_payload(), list):
        _wrap(msg)
    parts = msg.get_payload()
    if not isinstance(parts, list):
        raise TypeError("decorate: wrapping left a payload that is not a list of parts")
    if header:
        parts.insert(0, _text_part(header))
    if footer:
        parts.append(_text_part(footer))


class Decorate(Handler):
    name = "decorate"
    description = "Add the list's header and footer texts as valid MIME."

    def __init__(self, context: HandlerContext) -> None:
        super().__init__(context)
        self.remote = RemoteTemplates.from_site(self.site)

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if mlist.personalize != "none":
            msgdata["decorate_per_recipient"] = True
            return
        decorate(mlist, msg, texts=self.remote.texts((HEADER, FOOTER), mlist))
