"""Putting a message straight into a list's queue: ``posthorn inject`` and REST's queues.

Both take a message that did not come through the MTA and queue it as the LMTP runner
would have (the list, the size, and for ``incoming`` the mark that it was addressed to
the posting address).  Text without headers is refused before anything is queued.
"""

from __future__ import annotations

import email
import email.policy
import time
from typing import Any

from posthorn.errors import PosthornError
from posthorn.interfaces.lists import IMailingList
from posthorn.queuing import open_queue
from posthorn.site import Site

__all__ = ["NotAMessage", "inject"]


class NotAMessage(PosthornError):
    """The text given has no header fields, so no runner could route it."""


def inject(site: Site, mlist: IMailingList, raw: bytes, queue: str = "incoming") -> str:
    """Queue ``raw`` for ``mlist`` in ``queue``; return the entry's id."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not msg.keys():
        raise NotAMessage("The text is not a message: it has no headers.")
    msgdata: dict[str, Any] = {
        "list_id": mlist.list_id,
        "original_size": len(raw),
        "received_time": time.time(),
    }
    if queue == "incoming":
        msgdata["to_list"] = True
    with open_queue(site.config, queue) as board:
        return board.enqueue(raw, msgdata)
