"""Remove DKIM signatures the list's changes would break.

A subject prefix, a footer or rewritten headers invalidate the poster's signature, and
a broken signature is worse than none under DMARC.  Signatures are kept only when the
list changes nothing the usual signed fields cover (no prefix, no texts, no Reply-To
munging, no personalization).  A post the list ARC-signs (``msgdata["arc_results"]``,
see ``arc_sign``) keeps its ARC sets: the list's new seal extends that chain.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList
from posthorn.messages.dropping import drop_headers

__all__ = ["CleanseDKIM"]

SIGNATURES = ("dkim-signature", "domainkey-signature")
ARC_SETS = ("arc-seal", "arc-message-signature")


def list_modifies(mlist: IMailingList) -> bool:
    return bool(
        mlist.subject_prefix.strip()
        or mlist.header_text.strip()
        or mlist.footer_text.strip()
        or mlist.reply_goes_to_list != "no_munging"
        or mlist.personalize != "none"
        or mlist.anonymous_list
    )


class CleanseDKIM(Handler):
    name = "cleanse-dkim"
    description = "Remove DKIM signatures when the list modifies the message."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if list_modifies(mlist) or msgdata.get("dmarc_action"):
            kept = ARC_SETS if msgdata.get("arc_results") else ()
            drop_headers(msg, (h for h in (*SIGNATURES, *ARC_SETS) if h not in kept))
