"""Append the post to the list's digest mailbox, for the digest runner to send later.

The mailbox is ``var/data/digests/LIST-ID.mbox`` under the data directory, one file
per list, appended under an exclusive lock (``posthorn.digests.mailbox``, which also
rotates it atomically when a digest is sent; a post already appended, as by a redone
pipeline entry, is not appended again).  Skipped when digests are off.  When
the mailbox reaches the list's ``digest_size_threshold`` (KiB; 0: never by size), a
trigger entry goes to queue ``digest`` with ``digest_trigger: size``; the digest
runner re-checks the size, so a trigger too many sends nothing twice.  The post whose
entry crosses the threshold sends the trigger; while the mailbox stays over it (the
digest runner is busy or stopped), a further one goes at most every
``TRIGGER_REPEAT`` seconds, not one per post.
"""

from __future__ import annotations

import time
from email.message import Message
from typing import IO, Any

from posthorn.digests.mailbox import append, digest_mailbox
from posthorn.handlers.base import Handler
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.messages import message_id_hash
from posthorn.queues.flatten import flatten_to

__all__ = ["ToDigest", "digest_mailbox"]

# Seconds between two triggers for a mailbox still over its threshold.  A trigger is a
# durable queue entry (an fsync); one per post, while a burst of posts waited for the
# digest runner, doubled the pipeline's writes.  A repeat covers a trigger lost with
# its process between the append and the enqueue.
TRIGGER_REPEAT = 60.0


class _MboxEntry:
    """Writes the post to the mailbox as one mbox entry, and keeps how long it was.

    Written straight to the file, never made into bytes: a large post would be in
    memory twice.
    """

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self.size = 0

    def __call__(self, fp: IO[bytes]) -> None:
        start = fp.tell()
        stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
        fp.write(f"From posthorn {stamp}\n".encode())
        flatten_to(fp, self.msg, mangle_from=True)
        fp.write(b"\n\n")
        self.size = fp.tell() - start


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

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if not mlist.digests_enabled:
            return
        path = digest_mailbox(self.site.config.path("shared_dir"), mlist.list_id)
        entry = _MboxEntry(msg)
        # Named by its Message-ID-Hash, a redone pipeline entry appends the post once.
        message_id = str(msg.get("message-id", "")).strip()
        key = message_id_hash(message_id) if message_id else ""
        size = append(path, entry, key=key)
        threshold = mlist.digest_size_threshold * 1024
        if threshold > 0 and size >= threshold and self._due(mlist, size - entry.size < threshold):
            data = {"list_id": mlist.list_id, "digest_trigger": "size"}
            self.context.enqueue("digest", _trigger(mlist), data)

    def _due(self, mlist: IMailingList, crossed: bool) -> bool:
        """Whether a mailbox over its threshold needs a trigger now (see TRIGGER_REPEAT)."""
        now = time.monotonic()
        last = self._triggered.get(mlist.list_id)
        if crossed or last is None or now - last >= TRIGGER_REPEAT:
            self._triggered[mlist.list_id] = now
            return True
        return False
