"""emergency: while the list is in emergency mode every post waits for a moderator."""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.rules import Rule, add_reason


class Emergency(Rule):
    name = "emergency"
    description = "The list is in emergency moderation mode."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        if mlist.emergency and not msgdata.get("approved"):
            add_reason(msgdata, _("The list is in emergency hold and all posts are moderated"))
            return True
        return False
