"""nonmember-moderation: a post from someone who is not a member of the list.

A sender that cannot be identified unambiguously (``sender.py``) is a non-member.  The
action is, in order: the address's own nonmember entry on the roster, the list's
``accept/hold/reject/discard_these_nonmembers`` (exact or ``^regex``), then the
list's ``default_nonmember_action`` (hold by default).  ``defer`` is a miss.

A sender the list has never seen is recorded as a non-member first (with a user of
its own, as every new address gets), as Mailman does: the list's moderators then find
the poster on the ``nonmember`` roster and can set the address's own action.
"""

from __future__ import annotations

import contextlib
from email.message import Message
from typing import Any

from posthorn.errors import AlreadyMemberError, InvalidAddressError
from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.rules import (
    Rule,
    add_reason,
    matches_address,
    sender_memberships,
    sender_of,
    set_action,
)
from posthorn.rules.member_moderation import posting_memberships


def nonmember_action(site: Any, mlist: IMailingList, address: str | None) -> str:
    if address is not None:
        for entry in sender_memberships(site, mlist, address):
            if entry.role == "nonmember" and entry.moderation_action is not None:
                return str(entry.moderation_action)
        for action in ("accept", "hold", "reject", "discard"):
            if matches_address(address, getattr(mlist, f"{action}_these_nonmembers")):
                return action
    return mlist.default_nonmember_action


class NonmemberModeration(Rule):
    name = "nonmember-moderation"
    description = "The sender is not a member of the list."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        address = sender_of(msg)
        if posting_memberships(self.site, mlist, address):
            return False
        if address is not None and not sender_memberships(self.site, mlist, address):
            self._record(mlist, address)
        action = nonmember_action(self.site, mlist, address)
        if action == "defer":
            return False
        set_action(msgdata, action)
        if address is None:
            add_reason(msgdata, _("The sender could not be identified unambiguously"))
        elif action in ("hold", "reject"):
            add_reason(
                msgdata, _("The message is not from a list member: $address"), address=address
            )
        return True

    def _record(self, mlist: IMailingList, address: str) -> None:
        # Recorded by another runner meanwhile, or not an address one can store
        # (a list's own address in From): either way there is nothing to record.
        with contextlib.suppress(AlreadyMemberError, InvalidAddressError):
            self.site.lists.subscribe(mlist, address, role="nonmember")
