"""help: the list of commands, from the ``help`` template."""

from __future__ import annotations

from posthorn.commands import CommandContext
from posthorn.i18n import _
from posthorn.registry import Registry
from posthorn.templates import render

__all__ = ["Help"]


class Help:
    name = "help"
    argument_description = ""
    description = _("Get this help.")

    def run(self, context: CommandContext, arguments: list[str]) -> bool:
        registry = Registry(context.site.config)
        lines = []
        translate = context.translate
        for name in registry.names("command"):
            command = registry.load("command", name)
            usage = f"{name} {translate(command.argument_description)}".rstrip()
            lines.append(f"    {usage}\n        {translate(command.description)}")
        body = render(
            context.site.config, "help", context.mlist,
            language=translate.language, commands="\n".join(lines),
        )[1]  # fmt: skip
        context.results.append(body.rstrip("\n"))
        return True
