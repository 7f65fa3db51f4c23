"""max-recipients: a post addressed to too many people at once (To and Cc).

As in GNU Mailman, it matches at ``max_num_recipients`` or more; 0 turns it off.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.rules import Rule, add_reason
from posthorn.rules.implicit_destination import destinations


class MaxRecipients(Rule):
    name = "max-recipients"
    description = "The post has too many recipients."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        limit = mlist.max_num_recipients
        count = len(set(destinations(msg)))
        if limit > 0 and count >= limit:
            add_reason(msgdata, _("The message has $count recipients (limit $limit)"),
                       count=count, limit=limit)  # fmt: skip
            return True
        return False
