"""accept: the post goes on to queue ``pipeline`` for delivery.

Said in the log at level ``debug`` only: the usual end of a post costs no formatted
line per post in the incoming runner (each was a good part of its CPU per post).  What
became of a post is logged where it is not the usual (discarded, held, rejected), and
its delivery in ``smtp.log``.
"""

from __future__ import annotations

import logging
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
        if context.log.isEnabledFor(logging.DEBUG):
            context.log.debug("%s: accepted %s", mlist.list_id, msg.get("message-id", "?"))
