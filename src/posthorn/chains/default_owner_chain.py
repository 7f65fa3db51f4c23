"""default-owner-chain: mail to ``LIST-owner`` goes straight to the owners.

No posting rules apply: the owners must be reachable even by someone the list would
hold or ban.  The post goes to queue ``pipeline`` with ``recipients`` set to the
owners and moderators and ``pipeline`` set to the list's ``owner_pipeline``
(``default-owner-pipeline``, the ``owner-posting`` pipeline, unless the list names
another).
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.chains import Chain
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.rules import ChainContext


class OwnerChain(Chain):
    name = "default-owner-chain"
    description = "Send mail for the list's owners to its owners and moderators."

    def process(
        self, context: ChainContext, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
    ) -> None:
        roster = context.site.lists.roster(mlist)
        recipients = sorted({member.email for member in roster.administrators})
        if not recipients:
            site_owner = context.site.config["posthorn"].get_str("site_owner")
            context.log.warning("%s has no owners; sending to %s", mlist.list_id, site_owner)
            recipients = [site_owner]
        msgdata.update(recipients=recipients, pipeline=mlist.owner_pipeline)
        context.enqueue("pipeline", msg, msgdata)
