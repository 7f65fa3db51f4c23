"""reject: the post is dropped and the poster told why, through queue ``virgin``.

The notice goes to the identified sender, else to the envelope sender; never to an
empty envelope sender (a bounce), which would risk a loop.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.chains import Chain
from posthorn.i18n import recipient_translator
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.rules import ChainContext
from posthorn.moderation import reject_notice
from posthorn.rules import reasons_in
from posthorn.sender import sender_address


class RejectChain(Chain):
    name = "reject"
    description = "Drop the post and tell the poster why."

    def process(
        self, context: ChainContext, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
    ) -> None:
        poster = sender_address(msg) or str(msgdata.get("envelope_sender") or "")
        reasons = list(msgdata.get("moderation_reasons", []))
        context.log.info(
            "%s: rejected %s from %s: %s",
            mlist.list_id,
            msg.get("message-id", "?"),
            poster or "?",
            "; ".join(reasons) or "no reason",
        )
        if not poster:
            return
        translate = recipient_translator(context.site, mlist, poster)
        reasons = reasons_in(msgdata, translate)
        notice, data = reject_notice(mlist, poster, reasons, msg, translate)
        context.enqueue("virgin", notice, data)
