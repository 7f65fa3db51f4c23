"""Remove headers that must not reach the members.

``Approved:`` and its variants carry the moderator password; ``Urgent:`` would bypass
digest delivery; read-receipt requests would send every member's client a prompt to
mail the poster; ``X-Posthorn-Notice`` is Posthorn's own mark, never a poster's.  On
an anonymous list (``anonymous_list``) the poster's identity is removed too: From
becomes the list, and headers that name or trace the poster go.
Reads no msgdata.
"""

from __future__ import annotations

from email.message import Message
from email.utils import formataddr
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList
from posthorn.messages.dropping import drop_headers
from posthorn.messages.notices import NOTICE_HEADER

__all__ = ["Cleanse"]

ALWAYS = (
    "approved",
    "approve",
    "x-approved",
    "x-approve",
    "urgent",
    "return-receipt-to",
    "disposition-notification-to",
    "x-confirm-reading-to",
    "x-pmrqc",
    # Only Posthorn marks its notices (messages.notices); a forged mark on a post
    # would keep the owners from hearing that the MTA refused it.
    NOTICE_HEADER.lower(),
)
ANONYMOUS = (
    "from",
    "reply-to",
    "sender",
    "return-path",
    "x-originating-email",
    "x-originating-ip",
    "received",
    "organization",
    "x-envelope-from",
    "x-mailer",
    "user-agent",
)


class Cleanse(Handler):
    name = "cleanse"
    description = "Remove headers members must not see (passwords, receipt requests)."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        drop_headers(msg, (*ALWAYS, *ANONYMOUS) if mlist.anonymous_list else ALWAYS)
        if mlist.anonymous_list:
            msg["From"] = formataddr((mlist.display_name, mlist.posting_address))
            msg["Reply-To"] = mlist.posting_address
