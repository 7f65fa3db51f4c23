"""Hand the finished message to the outgoing runner (queue ``outgoing``).

Passes on ``msgdata`` as it is: ``recipients``, ``sender`` and the personalization
flags the outgoing runner reads.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList

__all__ = ["ToOutgoing"]

# Keys that only mean something inside the pipeline run.
_PIPELINE_ONLY = ("pipeline", "poster_preferences")


class ToOutgoing(Handler):
    name = "to-outgoing"
    description = "Queue the message for delivery."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        data = {key: value for key, value in msgdata.items() if key not in _PIPELINE_ONLY}
        data["list_id"] = mlist.list_id
        self.context.enqueue("outgoing", msg, data)
