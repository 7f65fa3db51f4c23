"""The digest runner: sends a list's digest when to-digest says it is due.

Reads queue ``digest``.  An entry is a trigger, not a post: the ``to-digest`` handler
queues one (``digest_trigger: size``) when the list's digest mailbox passes
``digest_size_threshold``; anyone may queue one with ``digest_force: true`` to send
whatever has gathered.  The mailbox is re-checked here, so several triggers for
one digest send it once.  Building and sending is ``posthorn.digests.send``.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.digests.send import DigestSender
from posthorn.interfaces.lists import IMailingList
from posthorn.runners.base import Runner
from posthorn.site import Site

__all__ = ["DigestRunner"]


class DigestRunner(Runner):
    # The list only names the digest and its threshold; its numbers are read afresh.
    list_cache = True

    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        self.sender = DigestSender(site, self._send, log=self.log)

    def _send(self, msg: Message, msgdata: dict[str, Any]) -> None:
        self.enqueue("virgin", msg, msgdata)

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        if mlist is None:
            self.log.warning("digest trigger without a list dropped")
            return
        sent = self.sender.run(mlist, force=bool(msgdata.get("digest_force")))
        self.log.info("%s: %d digest issue(s) sent", mlist.list_id, sent)
