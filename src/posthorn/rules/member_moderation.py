"""member-moderation: a subscriber's post gets the member's moderation action.

The member's own ``moderation_action`` wins; otherwise a regular member gets the
list's ``default_member_action`` and an owner or moderator ``defer`` (carry on).
``defer`` is a miss: the remaining rules decide.  Only a sender that ``sender.py``
identifies unambiguously can be a member.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList, IMember
from posthorn.rules import Rule, add_reason, sender_memberships, sender_of, set_action

_POSTER_ROLES = ("member", "owner", "moderator")


def posting_memberships(site: Any, mlist: IMailingList, address: str | None) -> list[IMember]:
    """The sender's memberships that allow posting (member, owner, moderator)."""
    if address is None:
        return []
    found = sender_memberships(site, mlist, address)
    return [member for member in found if member.role in _POSTER_ROLES]


def member_action(mlist: IMailingList, members: list[IMember]) -> str:
    """Owners and moderators first, then the member row; an explicit action wins."""
    ranked = sorted(members, key=lambda m: _POSTER_ROLES.index(m.role), reverse=True)
    for member in ranked:
        if member.moderation_action is not None:
            return member.moderation_action
    if any(member.role in ("owner", "moderator") for member in members):
        return "defer"
    return mlist.default_member_action


class MemberModeration(Rule):
    name = "member-moderation"
    description = "The sender is a member whose posts are moderated."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        members = posting_memberships(self.site, mlist, sender_of(msg))
        if not members:
            return False
        action = member_action(mlist, members)
        if action == "defer":
            return False
        set_action(msgdata, action)
        if action in ("hold", "reject"):
            add_reason(msgdata, _("The message comes from a moderated member"))
        return True
