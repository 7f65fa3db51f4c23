"""discard: the post is dropped, with a log line saying whose it was and why."""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.chains import Chain
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.rules import ChainContext


class DiscardChain(Chain):
    name = "discard"
    description = "Drop the post without telling anyone."

    def process(
        self, context: ChainContext, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
    ) -> None:
        context.log.info(
            "%s: discarded %s from %s (rules: %s)",
            mlist.list_id,
            msg.get("message-id", "?"),
            msg.get("from", "?"),
            ", ".join(msgdata.get("rule_hits", [])) or "none",
        )
