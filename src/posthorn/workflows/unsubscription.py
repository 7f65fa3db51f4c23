"""The unsubscription workflow: confirm, approve, unsubscribe, say goodbye.

The list's ``unsubscription_policy`` picks the steps as for subscriptions (``open``
unsubscribes at once).  A request on behalf of another address (the ``address=``
argument of an email command) always asks that address to confirm, so nobody can
remove someone else by mail.  The goodbye notice follows ``send_goodbye_message``;
the owners and moderators hear of it when the list's ``admin_notify_mchanges`` is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posthorn.address import normalize_email
from posthorn.errors import InvalidAddressError, NotAMemberError
from posthorn.i18n import _
from posthorn.workflows import (
    CONFIRM_POLICIES,
    MODERATE_POLICIES,
    Outcome,
    Workflow,
)

__all__ = ["UnsubscriptionWorkflow"]


class UnsubscriptionWorkflow(Workflow):
    request_type = "unsubscription"

    def start(
        self,
        email: str,
        *,
        pre_confirmed: bool = False,
        pre_approved: bool = False,
        send_goodbye: bool | None = None,
        confirm_anyway: bool = False,
    ) -> Outcome:
        """Begin unsubscribing ``email``; the ``pre_*`` flags skip a step already done.

        ``confirm_anyway``: the request came from someone else, so the member confirms
        whatever the policy.
        """
        try:
            email = normalize_email(email)
        except InvalidAddressError:
            text = _("'$email' is not a valid email address.")
            return Outcome("invalid-address", text, values=self._about(email))
        if self.site.lists.roster(self.mlist).get_member(email) is None:
            text = _("$email is not a member of $list.")
            return Outcome("not-member", text, email, values=self._about(email))
        pending = self.find_pending(email)
        if pending is not None:
            text = _("An unsubscription of $email is already waiting for confirmation or approval.")
            return Outcome("already-pending", text, email, pending.token, values=self._about(email))
        policy = self.policy
        data: dict[str, Any] = {
            "email": email,
            "role": "member",
            "send_goodbye": send_goodbye,
            "pre_approved": pre_approved,
        }
        if (policy in CONFIRM_POLICIES or confirm_anyway) and not pre_confirmed:
            return self.wait_for("subscriber", data)
        if policy in MODERATE_POLICIES and not pre_approved:
            return self.wait_for("moderator", data)
        return self._finish(data)

    @property
    def policy(self) -> str:
        return self.mlist.unsubscription_policy

    def _finish(self, data: Mapping[str, Any]) -> Outcome:
        email = str(data["email"])
        try:
            self.site.lists.unsubscribe(self.mlist, email, data.get("role", "member"))
        except NotAMemberError:
            text = _("$email is not a member of $list.")
            return Outcome("not-member", text, email, values=self._about(email))
        goodbye = data.get("send_goodbye")
        if goodbye is None:
            goodbye = self.mlist.send_goodbye_message
        if goodbye:
            self.notify("goodbye", [email], address=email)
        self.tell_administrators("admin-unsubscribed", email)
        text = _("$email has left $list.")
        return Outcome("unsubscribed", text, email, values=self._about(email))
