"""Append the post to the list's digest mailbox, for the digest runner to send later.

The mailbox is ``var/data/digests/LIST-ID.mmdf``-style mbox under the data directory,
one file per list, appended under an exclusive lock.  Skipped when digests are off.
"""

from __future__ import annotations

import fcntl
import os
import time
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO
from pathlib import Path
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList

__all__ = ["ToDigest", "digest_mailbox"]


def digest_mailbox(data_dir: Path, list_id: str) -> Path:
    return data_dir / "digests" / f"{list_id}.mbox"


def _mbox_entry(msg: Message) -> bytes:
    buffer = BytesIO()
    stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
    buffer.write(f"From posthorn {stamp}\n".encode())
    BytesGenerator(buffer, mangle_from_=True).flatten(msg)
    buffer.write(b"\n\n")
    return buffer.getvalue()


class ToDigest(Handler):
    name = "to-digest"
    description = "Append the post to the list's digest mailbox."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if not mlist.digests_enabled:
            return
        path = digest_mailbox(self.site.config.path("data_dir"), mlist.list_id)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        entry = _mbox_entry(msg)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, entry)
        finally:
            os.close(fd)
