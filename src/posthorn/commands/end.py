"""end: stop reading commands (the rest of the message is, say, a quoted reply)."""

from __future__ import annotations

from posthorn.commands import CommandContext

__all__ = ["End"]


class End:
    name = "end"
    argument_description = ""
    description = "Stop processing commands."

    def run(self, context: CommandContext, arguments: list[str]) -> bool:
        return False
