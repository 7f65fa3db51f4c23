"""confirm TOKEN: the requester's answer to a confirmation request."""

from __future__ import annotations

from posthorn.commands import CommandContext
from posthorn.i18n import _
from posthorn.workflows.requests import confirm_request

__all__ = ["Confirm"]


class Confirm:
    name = "confirm"
    argument_description = _("TOKEN")
    description = _("Confirm a subscription or unsubscription request.")

    def run(self, context: CommandContext, arguments: list[str]) -> bool:
        if len(arguments) != 1:
            context.say(_("confirm takes exactly one argument, the token."))
            return True
        outcome = confirm_request(context.site, context.mlist, arguments[0], context.enqueue)
        context.report(outcome)
        return True
