"""``posthorn where MESSAGE-ID``: where a message is now, for an administrator.

Searches every queue (the entry's metadata and its Message-ID header, so an entry a
runner has in hand and the ``shunt``/``bad``/``dead`` queues count too) and the held
messages of every list, and ``smtp.log`` (each transaction's line names the Message-ID): a delivered
message is reported as "delivered to N recipients (last at TIME)", N being the
recipients the MTA accepted over every transaction for it.  A message found nowhere
was discarded or rejected (the incoming and pipeline logs say which).
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.interfaces.queues import IQueueStore
from posthorn.queuing import queue_store

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_ACCEPTED = re.compile(r" accepted=(\d+) ")


def _message_id_of(data: bytes) -> str:
    head = _HEADER_END.split(data, maxsplit=1)[0]
    found = re.search(rb"(?im)^message-id:\s*(<[^>\r\n]*>)", head)
    return found.group(1).decode(errors="replace") if found else ""


def in_queues(store: IQueueStore, message_id: str) -> list[str]:
    """A line per queue entry holding ``message_id``: queue, state, entry id, reason."""
    found = []
    for entry in store.scan():
        if _message_id_of(entry.data) != message_id:
            continue
        msgdata = entry.msgdata
        reason = msgdata.get("shunt_reason") or msgdata.get("bad_reason") or ""
        if entry.queue == "dead":
            reason = f"refused by the MTA: {msgdata.get('dead_reason', '')}"
        retry = msgdata.get("retry_reason")
        line = f"queue {entry.queue} ({entry.state}) {entry.id}"
        if reason:
            line += f": {reason}"
        elif retry:
            line += f": retry {msgdata.get('retries')} ({retry})"
        found.append(line)
    return found


def delivered(log_dir: Path, message_id: str) -> str:
    """The "delivered to N recipients (last at TIME)" line from smtp.log; "" if none."""
    marker = f" message-id={message_id} "
    count, last = 0, ""
    for path in (log_dir / "smtp.log.1", log_dir / "smtp.log"):
        try:
            with path.open(errors="replace") as lines:
                for line in lines:
                    if marker not in line:
                        continue
                    found = _ACCEPTED.search(line)
                    if found and int(found.group(1)):
                        count += int(found.group(1))
                        last = " ".join(line.split(" ", 2)[:2])
        except OSError:
            continue
    if not count:
        return ""
    return f"delivered to {count} recipients (last at {last})"


@click.command()
@click.argument("message_id")
@pass_cli
def command(cli: CliContext, message_id: str) -> None:
    """Show where the message with MESSAGE-ID is: queues, held messages, smtp.log."""
    wanted = message_id if message_id.startswith("<") else f"<{message_id}>"
    lines = in_queues(queue_store(cli.existing_config), wanted)
    site = cli.site
    for mlist in site.lists.lists():
        for held in site.messages.held_for_list(mlist.list_id):
            if held.message_id.strip() == wanted:
                lines.append(f"held for {mlist.list_id} as request {held.request_id}: "
                             f"{held.reason}")  # fmt: skip
    sent = delivered(cli.config.path("log_dir"), wanted)
    if sent:
        lines.append(sent)
    if not lines:
        click.echo(f"{wanted}: in no queue, not held and not in smtp.log; discarded, "
                   f"rejected or without recipients (see the incoming, pipeline and "
                   f"outgoing logs)")  # fmt: skip
        raise SystemExit(1)
    for line in lines:
        click.echo(f"{wanted}: {line}")


command.name = "where"
