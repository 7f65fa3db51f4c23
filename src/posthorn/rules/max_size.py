"""max-size: a post bigger than the list's ``max_message_size`` (KiB; 0 = no limit).

The size is the one the LMTP runner measured on arrival (``original_size``), which is
what the sender sent; the parsed message's size is the fallback.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.queues.flatten import message_size
from posthorn.rules import Rule, add_reason


class MaxSize(Rule):
    name = "max-size"
    description = "The post is larger than the list allows."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        limit_kib = mlist.max_message_size
        if limit_kib <= 0:
            return False
        size = msgdata.get("original_size")
        if not isinstance(size, int):
            size = message_size(msg)
        if size > limit_kib * 1024:
            add_reason(msgdata, _("The message is $size bytes, over the $limit KiB limit"),
                       size=size, limit=limit_kib)  # fmt: skip
            return True
        return False
