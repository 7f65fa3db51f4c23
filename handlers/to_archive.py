"""Send a copy of the post to the archive runner (queue ``archive``).

Skipped when no archiver is enabled for the list (none site-wide, all switched off
for the list, or its ``archive_policy`` is ``never``): an entry nobody will read would
cost an fsync per post.  Skipped too when the poster asked with ``X-No-Archive: yes``
or ``Archive: no``, or when ``msgdata["no_archive"]`` is set.
The archive runner feeds every enabled archiver on its own, so a slow archive never
delays delivery.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.archivers.loading import enabled_archivers, for_list
from posthorn.handlers.base import Handler
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList

__all__ = ["ToArchive"]


def poster_opted_out(msg: Message) -> bool:
    if msg.get("x-no-archive") is not None:
        return str(msg["x-no-archive"]).strip().lower() not in ("no", "false")
    return str(msg.get("archive", "")).strip().lower() == "no"


class ToArchive(Handler):
    name = "to-archive"
    description = "Queue a copy for the archivers, unless the list or poster says no."

    def __init__(self, context: HandlerContext) -> None:
        super().__init__(context)
        # The same site-enabled archivers the archive runner and cook-headers build.
        self._archivers = enabled_archivers(self.site)

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if not for_list(self._archivers, mlist) or msgdata.get("no_archive"):
            return
        if poster_opted_out(msg):
            msgdata["no_archive"] = True
            return
        data = {"list_id": mlist.list_id, "received_time": msgdata.get("received_time")}
        # The queue stores the message's bytes as they are now, so later handlers
        # (decorate, cook-headers) cannot reach the archive's copy: no deep copy needed.
        self.context.enqueue("archive", msg, data)
