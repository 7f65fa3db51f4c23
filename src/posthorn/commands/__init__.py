"""Email commands: what a person can ask of a list by mail, one module per command.

A command is an object with ``name``, ``argument_description``, ``description`` and
``run(context, arguments) -> bool`` (False stops reading further commands).  It appends
lines for the sender to ``context.results``; the command runner sends them all in one
reply.  Built-ins are listed under ``"command"`` in the registry; a third party adds
one by entry point (group ``posthorn.commands``).

Results are written in the sender's language: a command passes its sentence, marked
with ``_``, through ``context.translate`` (``posthorn.i18n``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any, Protocol

from posthorn.i18n import Translator, _
from posthorn.interfaces.lists import IMailingList
from posthorn.workflows import Enqueue, Outcome

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["ALIASES", "CommandContext", "EmailCommand", "keyword_arguments"]

# Other names people use for the same command (Mailman's, mostly).
ALIASES = {"subscribe": "join", "unsubscribe": "leave", "stop": "end", "--": "end"}


@dataclass
class CommandContext:
    """What a command may use and where it writes its answer."""

    site: Site
    mlist: IMailingList
    sender: str
    msg: Message
    msgdata: dict[str, Any]
    enqueue: Enqueue
    results: list[str] = field(default_factory=list)
    translate: Translator = field(default_factory=lambda: Translator("en"))

    def report(self, outcome: Outcome) -> None:
        self.results.append(outcome.message_in(self.translate))

    def say(self, message: str, /, **values: object) -> None:
        """Append ``message`` (marked with ``_``) in the sender's language."""
        self.results.append(self.translate(message, **values))


class EmailCommand(Protocol):
    name: str
    argument_description: str
    description: str

    def run(self, context: CommandContext, arguments: list[str]) -> bool:
        """Carry out the command, append its result; False ends the command list."""


def keyword_arguments(
    context: CommandContext, arguments: list[str], allowed: tuple[str, ...]
) -> dict[str, str] | None:
    """``address=a@b digest=mime`` as a dict; None (and a result line) when malformed."""
    found: dict[str, str] = {}
    for argument in arguments:
        key, sep, value = argument.partition("=")
        key = key.lower()
        if not sep or key not in allowed or not value:
            wanted = " ".join(f"{name}=..." for name in allowed)
            context.say(_("Bad argument '$argument'; expected $wanted."),
                        argument=argument, wanted=wanted)  # fmt: skip
            return None
        found[key] = value
    return found
