"""``command``: pipe each message to an external archiving program (MHonArc and kin).

``[archiver.command] command`` is split like a shell line (no shell runs it), then
``{list_id}``, ``{list_address}`` and ``{hash}`` are replaced in each word (braces, as
``$name`` is the configuration's own reference to ``[paths]``); the message is its
standard input.  Exit status 0 means archived; anything else, or running
past ``timeout`` (the process is killed), is a failure the archive runner retries.
"""

from __future__ import annotations

import shlex
import subprocess
from email.message import Message

from posthorn.archivers.base import Archiver, hash_of
from posthorn.interfaces.lists import IMailingList
from posthorn.queues.flatten import message_to_bytes

__all__ = ["CommandArchiver", "CommandFailed"]


class CommandFailed(RuntimeError):
    """The archiving program exited unsuccessfully."""


class CommandArchiver(Archiver):
    def argv(self, mlist: IMailingList, msg: Message) -> list[str]:
        line = self.section.get_str("command")
        if not line:
            raise CommandFailed("[archiver.command] command is empty")
        values = {
            "list_id": mlist.list_id,
            "list_address": mlist.posting_address,
            "hash": hash_of(msg) or "",
        }
        words = shlex.split(line)
        for name, value in values.items():
            words = [word.replace(f"{{{name}}}", value) for word in words]
        return words

    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        result = subprocess.run(
            self.argv(mlist, msg),
            input=message_to_bytes(msg),
            capture_output=True,
            timeout=self.section.get_float("timeout"),
            check=False,
        )
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip()[-200:]
            raise CommandFailed(f"exit status {result.returncode}: {detail}")
        return self.permalink(mlist, msg)
