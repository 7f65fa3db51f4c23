"""help: the list of commands, from the ``help`` template."""

from __future__ import annotations

from posthorn.commands import CommandContext
from posthorn.registry import Registry
from posthorn.templates import render

__all__ = ["Help"]


class Help:
    name = "help"
    argument_description = ""
    description = "Get this help."

    def run(self, context: CommandContext, arguments: list[str]) -> bool:
        registry = Registry(context.site.config)
        lines = []
        for name in registry.names("command"):
            command = registry.load("command", name)
            usage = f"{name} {command.argument_description}".rstrip()
            lines.append(f"    {usage}\n        {command.description}")
        _, body = render(context.site.config, "help", context.mlist, commands="\n".join(lines))
        context.results.append(body.rstrip("\n"))
        return True
