"""The subscription workflow: verify, confirm, approve, subscribe, welcome.

``start`` checks the address (invalid, banned, already a member, already pending are
outcomes), then waits for the subscriber when the address is unverified or the policy
asks for confirmation, else for a moderator when the policy asks for approval, else
subscribes at once.  ``confirm`` is the subscriber's move (it also verifies the
address: the confirmation came back from it), ``moderate`` the moderator's.  The
welcome notice follows the list's ``send_welcome_message`` unless the caller says;
the owners and moderators hear of it when the list's ``admin_notify_mchanges`` is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posthorn.address import normalize_email
from posthorn.errors import AlreadyMemberError, InvalidAddressError
from posthorn.i18n import _
from posthorn.model.bans import DatabaseBanManager
from posthorn.model.registration import address_with_user
from posthorn.workflows import (
    CONFIRM_POLICIES,
    MODERATE_POLICIES,
    Outcome,
    Workflow,
)

__all__ = ["SubscriptionWorkflow"]

DELIVERY_MODES = ("regular", "plaintext_digests", "mime_digests", "summary_digests")


class SubscriptionWorkflow(Workflow):
    request_type = "subscription"

    def _refusal(self, email: str) -> Outcome | None:
        """Why ``email`` cannot even start a subscription, or None."""
        if DatabaseBanManager.from_site(self.site).is_banned(email, self.mlist.list_id):
            text = _("$email is banned from $list.")
            return Outcome("banned", text, email, values=self._about(email))
        if self.site.lists.roster(self.mlist).get_member(email) is not None:
            text = _("$email is already a member of $list.")
            return Outcome("already-member", text, email, values=self._about(email))
        pending = self.find_pending(email)
        if pending is not None:
            text = _("A subscription of $email is already waiting for confirmation or approval.")
            return Outcome("already-pending", text, email, pending.token, values=self._about(email))
        return None

    def start(
        self,
        email: str,
        *,
        display_name: str | None = None,
        delivery_mode: str = "regular",
        pre_verified: bool = False,
        pre_confirmed: bool = False,
        pre_approved: bool = False,
        send_welcome: bool | None = None,
        confirm_anyway: bool = False,
    ) -> Outcome:
        """Begin subscribing ``email``; the ``pre_*`` flags skip a step already done.

        ``confirm_anyway``: the request came from someone else (a mail on behalf of
        another address), so the address confirms whatever the policy.
        """
        try:
            email = normalize_email(email)
        except InvalidAddressError:
            text = _("'$email' is not a valid email address.")
            return Outcome("invalid-address", text, values=self._about(email))
        if delivery_mode not in DELIVERY_MODES:
            text = _("Unknown delivery mode '$mode'.")
            return Outcome("invalid-address", text, email, values={"mode": delivery_mode})
        refusal = self._refusal(email)
        if refusal is not None:
            return refusal
        address = address_with_user(self.site.users, email, display_name)
        if pre_verified and not address.verified:
            self.site.users.verify_address(email)
        policy = self.policy
        data: dict[str, Any] = {
            "email": email,
            "display_name": display_name,
            "role": "member",
            "delivery_mode": delivery_mode,
            "send_welcome": send_welcome,
            "pre_approved": pre_approved,
        }
        verified = (pre_verified or address.verified) and not confirm_anyway
        if not verified or (policy in CONFIRM_POLICIES and not pre_confirmed):
            return self.wait_for("subscriber", data)
        if policy in MODERATE_POLICIES and not pre_approved:
            return self.wait_for("moderator", data)
        return self._finish(data)

    @property
    def policy(self) -> str:
        return self.mlist.subscription_policy

    def _confirmed(self, email: str, data: Mapping[str, Any]) -> None:
        # The confirmation came back from the address, which verifies it.
        address_with_user(self.site.users, email, data.get("display_name"))
        self.site.users.verify_address(email)

    def _finish(self, data: Mapping[str, Any]) -> Outcome:
        email = str(data["email"])
        try:
            member = self.site.lists.subscribe(
                self.mlist,
                email,
                display_name=data.get("display_name"),
                delivery_mode=data.get("delivery_mode", "regular"),
            )
        except AlreadyMemberError:
            text = _("$email is already a member of $list.")
            return Outcome("already-member", text, email, values=self._about(email))
        welcome = data.get("send_welcome")
        if welcome is None:
            welcome = self.mlist.send_welcome_message
        if welcome:
            self.notify("welcome", [email], address=email)
        self.tell_administrators("admin-subscribed", email)
        text = _("$email is now a member of $list.")
        values = self._about(email)
        return Outcome("subscribed", text, email, member_id=member.member_id, values=values)
