"""The texts of the bounce notices: to the member, and to the list's owners.

Sentences marked for translation with ``$placeholders``, filled from the list and the
member: the warning is written in the member's language, the others in the list's.
"""

from __future__ import annotations

from posthorn.i18n import Translator, _
from posthorn.interfaces.lists import IMailingList

__all__ = ["SUBJECTS", "render"]

SUBJECTS = {
    "warning": _("Your subscription to $display_name has been disabled"),
    "disabled": _("$email's subscription to $display_name disabled (bounces)"),
    "removed": _("$email unsubscribed from $display_name (bounces)"),
    "increment": _("$email's bounce score on $display_name is now $score"),
    "unrecognized": _("Uncaught bounce notification for $display_name"),
}

_TEXTS = {
    "warning": _("""\
Your subscription to the $display_name mailing list ($fqdn_listname) has been
disabled because mail sent to $email has bounced too often.  You will receive
no posts until you re-enable delivery.

This is warning $warning of $warnings.  If delivery is not re-enabled, the
subscription will be removed after the last warning.

To re-enable delivery, contact the list owners at $owner_address.
"""),
    "disabled": _("""\
Delivery to $email on $fqdn_listname was disabled: its bounce score reached
$score (the threshold is $threshold).  The member will be warned $warnings
time(s) before being unsubscribed.
"""),
    "removed": _("""\
$email was unsubscribed from $fqdn_listname after delivery had been disabled
for bounces and $warnings warning(s) went unanswered.
"""),
    "increment": _("""\
A bounce from $email on $fqdn_listname raised its bounce score to $score
(the threshold is $threshold).
"""),
    "unrecognized": _("""\
The attached message was received as a bounce for $fqdn_listname, but no member
could be recognised in it.  It is forwarded for inspection.
"""),
}


def render(
    kind: str, mlist: IMailingList, translate: Translator, **values: object
) -> tuple[str, str]:
    """The subject and text of notice ``kind`` for ``mlist``, in ``translate``'s language."""
    names = {
        "display_name": mlist.display_name,
        "fqdn_listname": mlist.fqdn_listname,
        "owner_address": mlist.owner_address,
        "threshold": mlist.bounce_score_threshold,
        "warnings": mlist.bounce_you_are_disabled_warnings,
        **values,
    }
    return translate(SUBJECTS[kind], **names), translate(_TEXTS[kind], **names)
