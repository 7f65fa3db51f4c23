"""Append the post to the list's digest store, for the digest runner to send later.

The store (``posthorn.digests.store``) is, on SQLite, one mbox file per list in
``data_dir/digests/``, appended under an exclusive lock (``posthorn.digests.mailbox``,
which also rotates it atomically when a digest is sent); on PostgreSQL, rows of the
message database, which every host of the site appends to and sends from.  A post
already appended, as by a redone pipeline entry, is not appended again.  Skipped when
digests are off.  When what has gathered reaches the list's ``digest_size_threshold``
(KiB; 0: never by size), a trigger entry goes to queue ``digest`` with
``digest_trigger: size``; the digest runner re-checks the size, so a trigger too many
sends nothing twice.  The post whose entry crosses the threshold sends the trigger;
while what has gathered stays over it (the digest runner is busy or stopped), a
further one goes at most every ``TRIGGER_REPEAT`` seconds, not one per post.

A list with no digest members (delivery enabled) gathers its posts all the same, so a
member who switches to digests gets the posts since the last issue; but when they
reach the threshold, the issue nobody is to receive is numbered and dropped here
(``DigestSender.drop_unread``), without a trigger and a hop to the digest runner.
"""

from __future__ import annotations

import time
from email.message import Message
from typing import Any

from posthorn.digests.mailbox import digest_mailbox
from posthorn.digests.send import DigestSender
from posthorn.digests.store import digest_store
from posthorn.handlers.base import Handler
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.messages import message_id_hash

__all__ = ["ToDigest", "digest_mailbox"]

# Seconds between two triggers for a mailbox still over its threshold.  A trigger is a
# durable queue entry (an fsync); one per post, while a burst of posts waited for the
# digest runner, doubled the pipeline's writes.  A repeat covers a trigger lost with
# its process between the append and the enqueue.
TRIGGER_REPEAT = 60.0


def _trigger(mlist: IMailingList) -> Message:
    trigger = Message()
    trigger["Subject"] = f"digest trigger for {mlist.list_id}"
    trigger.set_payload("")
    return trigger


class ToDigest(Handler):
    name = "to-digest"
    description = "Append the post to the list's digest mailbox."

    def __init__(self, context: HandlerContext) -> None:
        super().__init__(context)
        # list-id -> monotonic time of this process's last trigger for its mailbox.
        self._triggered: dict[str, float] = {}
        self.store = digest_store(self.site)
        self.sender = DigestSender(self.site, self._send, log=self.log)

    def _send(self, msg: Message, msgdata: dict[str, Any]) -> None:
        self.context.enqueue("virgin", msg, msgdata)

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if not mlist.digests_enabled:
            return
        # Named by its Message-ID-Hash, a redone pipeline entry appends the post once.
        message_id = str(msg.get("message-id", "")).strip()
        key = message_id_hash(message_id) if message_id else ""
        size, added = self.store.append(mlist.list_id, msg, key)
        threshold = mlist.digest_size_threshold * 1024
        if threshold <= 0 or size < threshold or self._dropped(mlist):
            return
        if self._due(mlist, size - added < threshold):
            data = {"list_id": mlist.list_id, "digest_trigger": "size"}
            self.context.enqueue("digest", _trigger(mlist), data)

    def _dropped(self, mlist: IMailingList) -> bool:
        """Whether the issue was numbered and dropped here, nobody being to receive it."""
        try:
            return self.sender.drop_unread(mlist)
        except Exception:
            # The post is in the mailbox: the digest runner will see to the issue.
            self.log.exception("%s: digest issue not dropped here; leaving it to the digest "
                          "runner", mlist.list_id)  # fmt: skip
            return False

    def _due(self, mlist: IMailingList, crossed: bool) -> bool:
        """Whether a mailbox over its threshold needs a trigger now (see TRIGGER_REPEAT)."""
        now = time.monotonic()
        last = self._triggered.get(mlist.list_id)
        if crossed or last is None or now - last >= TRIGGER_REPEAT:
            self._triggered[mlist.list_id] = now
            return True
        return False
