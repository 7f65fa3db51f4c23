"""Mail that must never get an automatic answer, since two robots answering each other
loop forever.  Used by the command runner (its results) and the autoresponder.

``is_automatic`` covers what the message says of itself: an empty envelope sender (a
bounce), ``Auto-Submitted`` other than ``no``, ``Precedence: bulk/junk/list``.
``no_reply_reason`` adds what only a list knows: mail from the list's own addresses
or any ``-bounces``/``-owner``/``mailer-daemon``/``postmaster`` address, mail from a
list (``List-Id`` or any ``List-*`` header), ``X-Ack: no``, and Posthorn's own notices.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.messages.notices import is_notice, poster_of

__all__ = ["is_automatic", "no_reply_reason", "own_addresses"]

_ROBOT_LOCAL = re.compile(
    r"^(mailer-daemon|postmaster|owner-.*|.*-(bounces|owner)(\+.*)?)$", re.IGNORECASE
)


def is_automatic(msg: Message, msgdata: dict[str, Any]) -> str | None:
    """Why ``msg`` must get no reply (a bounce or another robot's mail), or None."""
    if not msgdata.get("envelope_sender"):
        return "empty envelope sender"
    auto = str(msg.get("auto-submitted") or "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(msg.get("precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    return None


def own_addresses(mlist: IMailingList) -> set[str]:
    return {
        address.lower()
        for address in (mlist.posting_address, mlist.request_address, mlist.owner_address,
                        mlist.bounces_address, mlist.join_address, mlist.leave_address)
    }  # fmt: skip


def no_reply_reason(mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> str | None:
    """Why an automatic answer to ``msg`` could start a loop, or None when it is safe."""
    if is_notice(msg, msgdata):
        return "a Posthorn notice"
    why = is_automatic(msg, msgdata)
    if why is not None:
        return why
    if str(msg.get("x-ack") or "").strip().lower() == "no":
        return "X-Ack: no"
    listed = [name for name in msg if name.lower().startswith("list-")]
    if listed:
        return f"sent by a list ({listed[0]})"
    sender = poster_of(msg, msgdata)
    if not sender:
        return "no sender"
    if sender in own_addresses(mlist):
        return "sent by the list itself"
    if _ROBOT_LOCAL.match(sender.rpartition("@")[0]):
        return f"sent by a robot address ({sender})"
    return None
