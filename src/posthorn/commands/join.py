"""join: subscribe the sender, or ``address=``, following the list's policy.

``digest=no|plain|mime|summary`` picks the delivery mode.  An address other than the
sender's is always asked to confirm, so nobody subscribes someone else by mail.
"""

from __future__ import annotations

from posthorn.commands import CommandContext, keyword_arguments
from posthorn.i18n import _
from posthorn.workflows.subscription import SubscriptionWorkflow

__all__ = ["Join"]

DIGESTS = {
    "no": "regular",
    "plain": "plaintext_digests",
    "mime": "mime_digests",
    "summary": "summary_digests",
}


class Join:
    name = "join"
    argument_description = _("[digest=no|plain|mime|summary] [address=ADDRESS]")
    description = _("Join this mailing list.")

    def run(self, context: CommandContext, arguments: list[str]) -> bool:
        args = keyword_arguments(context, arguments, ("address", "digest"))
        if args is None:
            return True
        mode = DIGESTS.get(args.get("digest", "no").lower())
        if mode is None:
            context.say(_("Unknown digest choice '$choice'."), choice=args["digest"])
            return True
        email = args.get("address", context.sender)
        workflow = SubscriptionWorkflow(context.site, context.mlist, context.enqueue)
        context.report(
            workflow.start(
                email, delivery_mode=mode, confirm_anyway=email.lower() != context.sender
            )
        )
        return True
