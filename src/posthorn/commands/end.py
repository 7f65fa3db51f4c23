"""end: stop reading commands (the rest of the message is, say, a quoted reply)."""

from __future__ import annotations

from posthorn.commands import CommandContext
from posthorn.i18n import _

__all__ = ["End"]


class End:
    name = "end"
    argument_description = ""
    description = _("Stop processing commands.")

    def run(self, context: CommandContext, arguments: list[str]) -> bool:
        return False
