"""Moderating held posts, and the notices the system writes about posts.

``moderate`` is the one place a moderator's decision is carried out, whether it comes
from ``posthorn moderate`` or from the REST API: accept puts the held copy on queue
``pipeline`` with ``approved`` recorded (so the rules that held it are not asked
again); reject sends the poster a notice with the reason through queue ``virgin``;
discard forgets the post; defer leaves it held.  The queue entry is durable before the
held copy is removed, so a crash in between can duplicate a post but never lose it.

Notices are ordinary messages on queue ``virgin`` with ``recipients`` and ``sender``
(the list's ``-bounces`` address, so a notice that bounces never loops to a person).
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Sequence
from email.message import Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from typing import TYPE_CHECKING, Any, Literal

from posthorn.errors import PosthornError
from posthorn.i18n import Translator, _, header_value, recipient_translator, text_part
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.messages import IHeldMessage
from posthorn.messages.notices import mark_notice, notice_id
from posthorn.queuing import queue_store
from posthorn.rules import reasons_in

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["Decision", "NoSuchRequestError", "make_notice", "moderate", "reject_notice"]

Decision = Literal["accept", "reject", "discard", "defer", "hold"]
Enqueue = Callable[[str, Message | bytes, dict[str, Any]], str]


class NoSuchRequestError(PosthornError):
    """No held message with that request id for that list."""


def make_notice(
    mlist: IMailingList,
    recipients: Sequence[str],
    subject: str,
    text: str,
    *,
    attach: Message | None = None,
    kind: str = "notice",
    message_id: str | None = None,
    charset: str = "utf-8",
) -> tuple[Message, dict[str, Any]]:
    """A message from the list to ``recipients``, and the msgdata queue virgin expects.

    ``message_id`` makes a notice written again for the same cause (a redone entry)
    the same message, which the outgoing runner's delivery record sends only once.
    ``charset`` is the language's (UTF-8 if the text does not fit it).
    """
    body = text_part(text, charset)
    msg: Message = body
    if attach is not None:
        msg = MIMEMultipart()
        msg.attach(body)
        msg.attach(MIMEMessage(attach))
    msg["From"] = mlist.owner_address
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = header_value(subject, charset)
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain=mlist.mail_host)
    msg["Auto-Submitted"] = "auto-generated"
    msgdata = {
        "list_id": mlist.list_id,
        "recipients": list(recipients),
        "sender": mlist.bounces_address,
        "notice": kind,
    }
    mark_notice(msg, msgdata, kind)
    return msg, msgdata


def reject_notice(
    mlist: IMailingList,
    poster: str,
    reasons: Sequence[str],
    original: Message | None,
    translate: Translator | None = None,
) -> tuple[Message, dict[str, Any]]:
    """The notice telling a poster their post to the list was rejected, and why.

    ``reasons`` are already in ``translate``'s language (the poster's).
    """
    translate = translate or Translator("en")
    address = {"posting_address": mlist.posting_address}
    lines = [translate(_("Your message to $posting_address was rejected."), **address), ""]
    lines += [translate(_("Reason(s):"))]
    lines += [f"    {reason}" for reason in reasons or [translate(_("No reason given"))]]
    lines += [
        "",
        translate(_("Questions go to $owner_address."), owner_address=mlist.owner_address),
    ]
    subject = translate(_("Your message to $posting_address was rejected"), **address)
    mid = notice_id(mlist, "reject", original) if original is not None else None
    return make_notice(
        mlist, [poster], subject, "\n".join(lines), attach=original, kind="reject",
        message_id=mid, charset=translate.charset,
    )  # fmt: skip


def queue_enqueuer(site: Site) -> Enqueue:
    """Enqueue onto the site's queues from outside a runner (the CLI, the REST API)."""
    store = queue_store(site.config)

    def enqueue(name: str, msg: Message | bytes, msgdata: dict[str, Any]) -> str:
        with store.open(name) as board:
            return board.enqueue(msg, msgdata)

    return enqueue


def find_held(site: Site, mlist: IMailingList, request_id: int) -> IHeldMessage:
    held = site.messages.get_held(request_id)
    if held is None or held.list_id != mlist.list_id:
        raise NoSuchRequestError(f"no held message {request_id} for {mlist.fqdn_listname}")
    return held


def moderate(
    site: Site,
    mlist: IMailingList,
    request_id: int,
    decision: Decision,
    *,
    reason: str | None = None,
    enqueue: Enqueue | None = None,
) -> IHeldMessage:
    """Carry out a moderator's decision on a held post; returns what was held."""
    held = find_held(site, mlist, request_id)
    put = enqueue or queue_enqueuer(site)
    if decision == "accept":
        msgdata = dict(held.msgdata)
        msgdata.pop("moderation_action", None)
        msgdata.update(list_id=mlist.list_id, approved=True, moderator_approved=True)
        put("pipeline", held.raw, msgdata)
    elif decision == "reject":
        poster = held.sender or str(held.msgdata.get("envelope_sender") or "")
        if poster:
            # A moderator's reason is their own text, given as written.
            translate = recipient_translator(site, mlist, poster)
            reasons = [reason] if reason else reasons_in(dict(held.msgdata), translate)
            reasons = reasons or [held.reason]
            notice, data = reject_notice(mlist, poster, reasons, held.message, translate)
            put("virgin", notice, data)
    if decision in ("accept", "reject", "discard"):
        site.messages.remove_held(held.request_id)
    return held
