"""loop: a post that has already been through this list (``X-BeenThere``) is discarded.

The pipeline stamps ``X-BeenThere: <posting address>`` on what it sends; seeing it
come back means a mail loop, and sending it again would only feed the loop.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.rules import Rule


class Loop(Rule):
    name = "loop"
    description = "The post has been through this list before."
    action = "discard"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        address = mlist.posting_address.lower()
        return any(str(v).strip().lower() == address for v in msg.get_all("x-beenthere") or [])
