"""banned-address: the sender is banned from this list or from the whole site.

Bans are data (``model/bans.py``; managed with ``posthorn bans`` or the REST ``bans``
resources): an address, matched exactly, or a ``^pattern``, matched against the whole
address, both without regard to case.  The post's sender and its envelope sender are
both checked, so a ban cannot be dodged by a forged From.  A hit rejects, unless the
chain's ``banned-address=ACTION`` says otherwise.
"""

from __future__ import annotations

from email.message import Message
from typing import TYPE_CHECKING, Any

from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.model.bans import DatabaseBanManager
from posthorn.rules import Rule, add_reason, sender_of

if TYPE_CHECKING:
    from posthorn.site import Site


class BannedAddress(Rule):
    name = "banned-address"
    description = "The sender is banned from posting to this list or this site."
    action = "reject"

    def __init__(self, site: Site) -> None:
        super().__init__(site)
        self.bans = DatabaseBanManager.from_site(site)

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        senders = [sender_of(msg), str(msgdata.get("envelope_sender") or "")]
        for address in dict.fromkeys(s.lower() for s in senders if s):
            if self._banned(address, mlist.list_id):
                add_reason(msgdata, _("$address is banned from posting to $posting_address"),
                           address=address, posting_address=mlist.posting_address)  # fmt: skip
                return True
        return False

    def _banned(self, address: str, list_id: str) -> bool:
        """Asked once per address and list until the bans change (``site.cache``)."""
        key = ("banned", address, list_id)
        return self.site.cache.get(key, lambda: self.bans.is_banned(address, list_id))
