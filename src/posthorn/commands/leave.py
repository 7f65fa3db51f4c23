"""leave: unsubscribe the sender, or ``address=``, following the list's policy.

An address other than the sender's is always asked to confirm.
"""

from __future__ import annotations

from posthorn.commands import CommandContext, keyword_arguments
from posthorn.i18n import _
from posthorn.workflows.unsubscription import UnsubscriptionWorkflow

__all__ = ["Leave"]


class Leave:
    name = "leave"
    argument_description = _("[address=ADDRESS]")
    description = _("Leave this mailing list.")

    def run(self, context: CommandContext, arguments: list[str]) -> bool:
        args = keyword_arguments(context, arguments, ("address",))
        if args is None:
            return True
        email = args.get("address", context.sender)
        workflow = UnsubscriptionWorkflow(context.site, context.mlist, context.enqueue)
        context.report(workflow.start(email, confirm_anyway=email.lower() != context.sender))
        return True
