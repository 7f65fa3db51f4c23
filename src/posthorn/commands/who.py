"""who: the list's members, if ``member_roster_visibility`` lets the sender see them.

``public``: anyone; ``members``: members and moderators; ``moderators``: the owners and
moderators only.
"""

from __future__ import annotations

from posthorn.commands import CommandContext
from posthorn.i18n import _

__all__ = ["Who"]


class Who:
    name = "who"
    argument_description = ""
    description = _("Get a list of the members of this mailing list.")

    def _allowed(self, context: CommandContext) -> bool:
        roster = context.site.lists.roster(context.mlist)
        visibility = context.mlist.member_roster_visibility
        admins = {member.email for member in roster.administrators}
        if visibility == "public" or context.sender in admins:
            return True
        return visibility == "members" and roster.get_member(context.sender) is not None

    def run(self, context: CommandContext, arguments: list[str]) -> bool:
        if not self._allowed(context):
            context.say(_("You are not allowed to see the members of this list."))
            return True
        members = sorted(m.email for m in context.site.lists.roster(context.mlist).members)
        context.say(_("Members of $list: $count"), list=context.mlist.fqdn_listname,
                    count=len(members))  # fmt: skip
        context.results.extend(f"    {email}" for email in members)
        return True
