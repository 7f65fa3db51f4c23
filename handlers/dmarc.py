"""Carry out the DMARC mitigation the posting chain chose (``msgdata["dmarc_action"]``).

A post from a domain publishing ``p=reject``/``p=quarantine`` would fail DMARC once the
list re-sends it, so the list takes responsibility for it (the names are GNU
Mailman's):

- ``munge_from``: From becomes ``"Name via List" <list@domain>``; the poster goes to
  Reply-To, or to Cc when the list already points Reply-To at itself, so that a reply
  still reaches them.
- ``wrap_message``: the post, untouched, becomes a message/rfc822 part of a new
  message from the list (with ``dmarc_wrapped_message_text`` as a first part when
  the list has one); the outer message keeps the post's Subject, To, Cc, Date,
  Message-ID, threading and list headers, and Reply-To names the poster.

Runs after the archive and digest copies are taken (they keep the real From) and
after decorate, right before delivery.
"""

from __future__ import annotations

from email.message import Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, getaddresses, parseaddr
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList

__all__ = ["Dmarc", "munge_from", "wrap_message"]

# Headers the wrapper carries over from the post, so threading and filters still work.
_KEPT = ("subject", "to", "cc", "date", "message-id", "in-reply-to", "references",
         "precedence", "archived-at", "message-id-hash", "x-message-id-hash")  # fmt: skip


def _poster(msg: Message) -> tuple[str, str]:
    name, address = parseaddr(str(msg.get("from", "")))
    return name, address


def _via(mlist: IMailingList, name: str, address: str) -> str:
    label = name or address.partition("@")[0] or "A poster"
    return formataddr((f"{label} via {mlist.display_name}", mlist.posting_address))


def _add_address(msg: Message, header: str, name: str, address: str) -> None:
    existing = getaddresses([str(v) for v in msg.get_all(header, [])])
    if any(found.lower() == address.lower() for _, found in existing):
        return
    values = [formataddr(pair) for pair in existing if pair[1]]
    del msg[header]
    msg[header] = ", ".join([*values, formataddr((name, address))])


def munge_from(mlist: IMailingList, msg: Message) -> None:
    """From is the list's; replies still reach the poster."""
    name, address = _poster(msg)
    if not address:
        return
    del msg["from"]
    msg["From"] = _via(mlist, name, address)
    header = "Cc" if mlist.reply_goes_to_list != "no_munging" else "Reply-To"
    _add_address(msg, header, name, address)


def wrap_message(mlist: IMailingList, msg: Message) -> Message:
    """A new message from the list holding ``msg`` as message/rfc822."""
    name, address = _poster(msg)
    outer = MIMEMultipart("mixed")
    if mlist.dmarc_wrapped_message_text:
        outer.attach(MIMEText(mlist.dmarc_wrapped_message_text, "plain", "utf-8"))
    for header, value in msg.items():
        lower = header.lower()
        if lower in _KEPT or lower.startswith("list-"):
            outer[header] = value
    outer["From"] = _via(mlist, name, address)
    if address:
        outer["Reply-To"] = formataddr((name, address))
    outer.attach(MIMEMessage(msg))
    return outer


class Dmarc(Handler):
    name = "dmarc"
    description = "Munge From or wrap the post, as the DMARC mitigation decided."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        action = msgdata.get("dmarc_action")
        if action == "munge_from":
            munge_from(mlist, msg)
        elif action == "wrap_message":
            # The pipeline passes this one message object on, so it becomes the
            # wrapper, and a copy of its former self goes inside.
            inner = Message()
            for header, value in msg.items():
                inner[header] = value
            inner.set_payload(msg.get_payload())
            inner.preamble, inner.epilogue = msg.preamble, msg.epilogue
            _replace_in_place(msg, wrap_message(mlist, inner))


def _replace_in_place(msg: Message, outer: Message) -> None:
    for header in list(msg.keys()):
        del msg[header]
    for header, value in outer.items():
        msg[header] = value
    msg.set_payload(outer.get_payload())
    msg.preamble, msg.epilogue = outer.preamble, outer.epilogue
