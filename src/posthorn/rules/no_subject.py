"""no-subject: a post without a Subject (or with only the list's prefix)."""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.rules import Rule, add_reason


class NoSubject(Rule):
    name = "no-subject"
    description = "The post has no subject."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        subject = str(msg.get("subject", "")).strip()
        prefix = mlist.subject_prefix.strip()
        if not subject or (prefix and subject == prefix):
            add_reason(msgdata, _("The message has no subject"))
            return True
        return False
