"""``posthorn where MESSAGE-ID``: where a message is now, for an administrator.

Searches every queue (the entry's metadata and its Message-ID header, so a claimed
``.bak`` and the ``shunt``/``bad`` queues count too) and the held messages of every
list.  A message found nowhere has left the queues: delivered (``smtp.log``),
discarded or rejected (the incoming and pipeline logs say which).
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.queues.entry import FormatError, decode

_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _message_id_of(data: bytes) -> str:
    head = _HEADER_END.split(data, maxsplit=1)[0]
    found = re.search(rb"(?im)^message-id:\s*(<[^>\r\n]*>)", head)
    return found.group(1).decode(errors="replace") if found else ""


def in_queues(queue_dir: Path, message_id: str) -> list[str]:
    """A line per queue file holding ``message_id``: queue, state, file, reason."""
    found = []
    for path in sorted(queue_dir.glob("*/*")):
        if path.suffix not in (".pck", ".bak"):
            continue
        try:
            data, msgdata = decode(path.read_bytes())
        except (OSError, FormatError):
            continue
        if _message_id_of(data) != message_id:
            continue
        state = "claimed" if path.suffix == ".bak" else "queued"
        reason = msgdata.get("shunt_reason") or msgdata.get("bad_reason") or ""
        retry = msgdata.get("retry_reason")
        line = f"queue {path.parent.name} ({state}) {path.name}"
        if reason:
            line += f": {reason}"
        elif retry:
            line += f": retry {msgdata.get('retries')} ({retry})"
        found.append(line)
    return found


@click.command()
@click.argument("message_id")
@pass_cli
def command(cli: CliContext, message_id: str) -> None:
    """Show where the message with MESSAGE-ID is: queues and held messages."""
    wanted = message_id if message_id.startswith("<") else f"<{message_id}>"
    lines = in_queues(cli.config.path("queue_dir"), wanted)
    site = cli.site
    try:
        for mlist in site.lists.lists():
            for held in site.messages.held_for_list(mlist.list_id):
                if held.message_id.strip() == wanted:
                    lines.append(f"held for {mlist.list_id} as request {held.request_id}: "
                                 f"{held.reason}")  # fmt: skip
    finally:
        site.close()
    if not lines:
        click.echo(f"{wanted}: in no queue and not held; delivered, discarded or rejected "
                   f"(see smtp.log and the incoming and pipeline logs)")  # fmt: skip
        raise SystemExit(1)
    for line in lines:
        click.echo(f"{wanted}: {line}")


command.name = "where"
