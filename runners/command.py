"""The command runner: email commands to ``-request``, ``-join``, ``-leave``, ``-confirm``.

Reads queue ``command`` (filled by the LMTP runner; ``subaddress``, ``token`` in
msgdata).  ``-join``/``-subscribe`` is one ``join``, ``-leave``/``-unsubscribe`` one
``leave``, ``-confirm+TOKEN`` one ``confirm TOKEN`` (without a token in the address,
the Subject's ``confirm TOKEN``, as in a reply to the confirmation request).
``-request`` reads a command from the Subject (when its first word is one) and then
one per line from the first text/plain part, skipping blank and quoted lines, up to
``[runner.command] max_lines`` lines, a ``-- `` signature line or ``end``.

Every message gets exactly one reply (template ``command-results``, queue ``virgin``)
listing each command and its result, except mail that must never be answered, since
two auto-responders answering each other loop forever: an empty envelope sender (a
bounce), ``Auto-Submitted`` other than ``no``, ``Precedence: bulk/junk/list``, or a
sender that is one of the list's own addresses (``posthorn.loops``).  Before the
commands, the list's ``autorespond_requests`` answer goes out (the ``autorespond``
handler); with ``respond_and_discard`` the commands are then not carried out.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Any

from posthorn.commands import ALIASES, CommandContext
from posthorn.i18n import _, recipient_translator
from posthorn.interfaces.handlers import DiscardMessage, HandlerContext, IHandler
from posthorn.interfaces.lists import IMailingList
from posthorn.loops import is_automatic, own_addresses
from posthorn.messages.charsets import decode_text
from posthorn.messages.notices import poster_of
from posthorn.moderation import make_notice
from posthorn.registry import Registry, RegistryError
from posthorn.runners.base import Runner
from posthorn.templates import render

__all__ = ["CommandRunner", "command_lines", "is_automatic"]

_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|fwd?)\s*:\s*)+", re.IGNORECASE)
_SUBADDRESS_COMMANDS = {"join": "join", "subscribe": "join", "leave": "leave",
                        "unsubscribe": "leave"}  # fmt: skip


def _body_text(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return decode_text(payload, part.get_content_charset(), "utf-8")
            return ""
    return ""


def command_lines(msg: Message, max_lines: int) -> tuple[list[str], int]:
    """The command lines of a ``-request`` message, and how many more were ignored."""
    lines: list[str] = []
    ignored = 0
    for raw in _body_text(msg).splitlines():
        if raw.rstrip("\r") == "-- ":
            break
        line = raw.strip()
        if not line or line.startswith(">"):
            continue
        if len(lines) >= max_lines:
            ignored += 1
        else:
            lines.append(line)
    return lines, ignored


def subject_line(msg: Message) -> str:
    """The Subject without ``Re:``-style prefixes."""
    return _REPLY_PREFIX.sub("", str(msg.get("subject") or "")).strip()


class CommandRunner(Runner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_lines = self.section.get_int("max_lines")
        self.registry = Registry(self.site.config)
        handler = self.site.registry.load("handler", "autorespond")
        self.autorespond: IHandler = handler(HandlerContext(self.site, self.enqueue))

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        if mlist is None:
            self.log.warning("command message names no list; dropped")
            return
        try:
            self.autorespond.process(mlist, msg, msgdata)
        except DiscardMessage as discarded:
            self.log.info("%s: commands not carried out: %s", mlist.list_id, discarded)
            return
        why = is_automatic(msg, msgdata)
        sender = poster_of(msg, msgdata)
        if why is None and sender in own_addresses(mlist):
            why = "sent by the list itself"
        if why is not None or not sender:
            self.log.info("%s: no reply to %s (%s)", mlist.list_id, sender or "?", why)
            return
        context = CommandContext(self.site, mlist, sender, msg, msgdata, self.enqueue)
        context.translate = recipient_translator(self.site, mlist, sender)
        lines, ignored = self._commands(msg, msgdata)
        for line in lines:
            context.results.append(f"> {line}")
            if not self._run(context, line):
                break
        if ignored:
            context.results.append("")
            context.say(_("$ignored more lines were ignored (at most $max_lines are read)."),
                        ignored=ignored, max_lines=self.max_lines)  # fmt: skip
        self._reply(mlist, context)

    def _commands(self, msg: Message, msgdata: dict[str, Any]) -> tuple[list[str], int]:
        subaddress = str(msgdata.get("subaddress") or "request")
        if subaddress in _SUBADDRESS_COMMANDS:
            return [_SUBADDRESS_COMMANDS[subaddress]], 0
        subject = subject_line(msg)
        if subaddress == "confirm":
            token = msgdata.get("token")
            return [f"confirm {token}" if token else subject or "confirm"], 0
        lines, ignored = command_lines(msg, self.max_lines)
        first = subject.split()[0].lower() if subject.split() else ""
        if first and self._find(first) is not None:
            lines.insert(0, subject)
        return lines, ignored

    def _find(self, name: str) -> Any:
        try:
            return self.registry.load("command", ALIASES.get(name, name))
        except RegistryError:
            return None

    def _run(self, context: CommandContext, line: str) -> bool:
        """Carry out one command line; False stops reading the others."""
        name, *arguments = line.split()
        found = self._find(name.lower())
        if found is None:
            context.say(_("No such command: $name"), name=name)
            return True
        command = found() if isinstance(found, type) else found
        return bool(command.run(context, arguments))

    def _reply(self, mlist: IMailingList, context: CommandContext) -> None:
        translate = context.translate
        results = "\n".join(context.results) or translate(
            _("No commands were found in your message.")
        )
        subject, body = render(self.site.config, "command-results", mlist,
                               language=translate.language, results=results)  # fmt: skip
        reply, data = make_notice(mlist, [context.sender], subject, body,
                                  kind="command-results", charset=translate.charset)  # fmt: skip
        original_id = context.msg.get("message-id")
        if original_id:
            reply["In-Reply-To"] = str(original_id)
        self.enqueue("virgin", reply, data)
