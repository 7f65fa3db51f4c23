"""accept: the post goes on to queue ``pipeline`` for delivery."""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.chains import Chain
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.rules import ChainContext


class AcceptChain(Chain):
    name = "accept"
    description = "Pass the post on to the pipeline."

    def process(
        self, context: ChainContext, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
    ) -> None:
        context.enqueue("pipeline", msg, msgdata)
        context.log.info("%s: accepted %s", mlist.list_id, msg.get("message-id", "?"))
