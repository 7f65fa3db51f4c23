"""administrivia: a command (``unsubscribe``, ``help``...) sent to the posting address.

People mail "unsubscribe" to the whole list; holding it spares the subscribers.  It
matches when the Subject, or one of the first few non-blank body lines, is a known
command alone or followed by at most a couple of arguments.  The list's
``administrivia`` switch turns the check off.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.rules import Rule, add_reason, leading_lines, text_of

COMMANDS = frozenset(
    {"confirm", "echo", "end", "help", "info", "join", "leave", "lists", "password",
     "remove", "set", "stop", "subscribe", "unsubscribe", "who"}
)  # fmt: skip
BODY_LINES = 5
MAX_WORDS = 3


def is_command(line: str) -> bool:
    words = line.strip().lower().split()
    return bool(words) and len(words) <= MAX_WORDS and words[0] in COMMANDS


def _body_lines(msg: Message) -> list[str]:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            text = text_of(part, "utf-8")
            # Only the first few lines count: the rest of the body is not looked at.
            return [] if text is None else leading_lines(text, BODY_LINES)
    return []


class Administrivia(Rule):
    name = "administrivia"
    description = "The post looks like a command meant for the request address."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        if not mlist.administrivia:
            return False
        subject = str(msg.get("subject", ""))
        if is_command(subject) or any(is_command(line) for line in _body_lines(msg)):
            add_reason(msgdata, _("The message looks like an administrative request"))
            return True
        return False
