"""Gate the post to the list's newsgroup (queue ``nntp``; see ``runners/nntp.py``).

Only for lists with ``gateway_to_news`` on and a ``linked_newsgroup``; never for a post
that came from that group (``msgdata["fromusenet"]``), so nothing echoes back.  Placed
before ``decorate``: readers of the group get no member footer.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList

__all__ = ["ToUsenet"]


class ToUsenet(Handler):
    name = "to-usenet"
    description = "Queue the post for the list's newsgroup."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if not mlist.gateway_to_news or not mlist.linked_newsgroup:
            return
        if msgdata.get("fromusenet"):
            return
        self.context.enqueue("nntp", msg, {"list_id": mlist.list_id})
