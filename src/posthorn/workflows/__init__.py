"""Subscription and unsubscription workflows: one object drives a request to its end.

A request moves through steps (the subscriber confirms, a moderator approves) chosen
by the list's ``subscription_policy`` / ``unsubscription_policy``: ``open`` (no step),
``confirm``, ``moderate`` or ``confirm_then_moderate``.  Between steps nothing is kept
in memory: the request waits as a pending of the list manager (type ``subscription``
or ``unsubscription``, a random token, expiring after ``[posthorn]
pending_request_life``), its data saying whose move it is (``token_owner``:
``subscriber`` or ``moderator``).  Moving to the next step takes the pending out and,
if another step follows, adds a new one with a fresh token, so a token acts once and a
restart between steps loses nothing.

Every call answers with an ``Outcome``: already a member, banned, an invalid address or
an unknown token are outcomes to report, not exceptions, because the email commands,
the CLI and the REST API all turn them into a reply for a person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from string import Template
from typing import TYPE_CHECKING, Any, Literal

from posthorn.events import ConfirmationEvent
from posthorn.i18n import Translator, _, list_translator, recipient_translator
from posthorn.interfaces.lists import IMailingList, IPending
from posthorn.moderation import make_notice, queue_enqueuer
from posthorn.remote_templates import RemoteTemplates
from posthorn.templates import render

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = [
    "CONFIRM_POLICIES",
    "MODERATE_POLICIES",
    "Enqueue",
    "ModeratorAction",
    "Outcome",
    "Workflow",
]

# The request type as a notice names it ($request_type).
_REQUEST_TYPES = {"subscription": _("subscription"), "unsubscription": _("unsubscription")}

# One sentence per request type, since "subscription" is not one word in every language.
_WAITING = {
    "subscription": _("The subscription of $email is waiting for a moderator."),
    "unsubscription": _("The unsubscription of $email is waiting for a moderator."),
}
_NOT_YOURS = {
    "subscription": _("The subscription of $email is waiting for a moderator, not for you."),
    "unsubscription": _("The unsubscription of $email is waiting for a moderator, not for you."),
}
_DEFERRED = {
    "subscription": _("The subscription of $email stays pending."),
    "unsubscription": _("The unsubscription of $email stays pending."),
}

CONFIRM_POLICIES = frozenset({"confirm", "confirm_then_moderate"})
MODERATE_POLICIES = frozenset({"moderate", "confirm_then_moderate"})

Enqueue = Callable[[str, Message | bytes, dict[str, Any]], str]
ModeratorAction = Literal["accept", "reject", "discard", "defer"]
Status = Literal[
    "subscribed",
    "unsubscribed",
    "confirmation-sent",
    "awaiting-moderator",
    "already-member",
    "already-pending",
    "not-member",
    "banned",
    "invalid-address",
    "unknown-token",
    "rejected",
    "discarded",
    "deferred",
]


@dataclass(frozen=True)
class Outcome:
    """What became of a request, with a sentence a person can read.

    ``text`` is the sentence in English with ``$placeholders`` filled from ``values``,
    so each reader can be answered in their own language (``message_in``).
    """

    status: Status
    text: str
    email: str = ""
    token: str | None = None
    token_owner: str | None = None
    member_id: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The sentence in English."""
        return Template(self.text).safe_substitute(self.values)

    def message_in(self, translate: Translator) -> str:
        """The sentence in ``translate``'s language."""
        return translate(self.text, **self.values)

    @property
    def pending(self) -> bool:
        return self.status in ("confirmation-sent", "awaiting-moderator", "deferred")


class Workflow:
    """What both workflows share: the site, the list, notices and the pendings."""

    request_type = ""

    def __init__(self, site: Site, mlist: IMailingList, enqueue: Enqueue | None = None) -> None:
        self.site = site
        self.mlist = mlist
        # Runners pass their own enqueue (durable before their entry is finished);
        # the CLI and the REST API write to the queues directly.
        self.enqueue = enqueue or queue_enqueuer(site)
        seconds = site.config["posthorn"].get_float("pending_request_life")
        self.lifetime = timedelta(seconds=seconds)

    def notify(
        self, template: str, recipients: Sequence[str], *, to_admins: bool = False, **values: object
    ) -> Message:
        """Render ``template`` and queue it on ``virgin`` to ``recipients``.

        A notice to the list's administrators is in the list's language; one to a
        requester in the requester's own.
        """
        remote = RemoteTemplates.from_site(self.site)
        if to_admins or len(recipients) != 1:
            translate = list_translator(self.site.config, self.mlist)
        else:
            translate = recipient_translator(self.site, self.mlist, recipients[0])
        values.setdefault(
            "request_type", translate(_REQUEST_TYPES.get(self.request_type, self.request_type))
        )
        subject, body = render(
            self.site.config, template, self.mlist, remote=remote,
            language=translate.language, **values,
        )  # fmt: skip
        msg, msgdata = make_notice(
            self.mlist, list(recipients), subject, body, kind=template, charset=translate.charset
        )
        if "confirm_address" in values:
            # A plain reply reaches the -confirm+TOKEN address: confirming by reply
            # works even where a mail client drops the Subject.
            msg["Reply-To"] = str(values["confirm_address"])
        self.enqueue("virgin", msg, msgdata)
        return msg

    def tell_administrators(self, template: str, email: str) -> None:
        """A membership change notice to the owners and moderators, if the list asks."""
        if self.mlist.admin_notify_mchanges and self.moderators():
            self.notify(template, self.moderators(), to_admins=True, address=email)

    def _about(self, email: str) -> dict[str, str]:
        """The placeholders of an outcome's sentence about ``email`` on this list."""
        return {"email": email, "list": self.mlist.fqdn_listname}

    def confirm_address(self, token: str) -> str:
        return f"{self.mlist.list_name}-confirm+{token}@{self.mlist.mail_host}"

    def moderators(self) -> list[str]:
        roster = self.site.lists.roster(self.mlist)
        return sorted({member.email for member in roster.administrators})

    def find_pending(self, email: str) -> IPending | None:
        """The live request of this type for ``email`` on this list, if any."""
        for pending in self.site.lists.pendings(type=self.request_type, list_id=self.mlist.list_id):
            if pending.data.get("email") == email:
                return pending
        return None

    def wait_for(self, owner: str, data: dict[str, Any]) -> Outcome:
        """Store the request for ``owner``'s move and send them the notice that asks."""
        data = {**data, "token_owner": owner}
        token = self.site.lists.add_pending(
            self.request_type, data, self.lifetime, list_id=self.mlist.list_id
        )
        email = str(data["email"])
        if owner == "subscriber":
            kind = "subscribe" if self.request_type == "subscription" else "unsubscribe"
            self.notify(
                f"confirm-{kind}", [email], token=token, address=email,
                confirm_address=self.confirm_address(token),
            )  # fmt: skip
            text = _("A confirmation request was sent to $email.")
            return Outcome("confirmation-sent", text, email, token, owner, values={"email": email})
        moderators = self.moderators()
        if moderators:
            self.notify("moderator-request", moderators, to_admins=True, token=token, address=email)
        text = _WAITING[self.request_type]
        return Outcome("awaiting-moderator", text, email, token, owner, values={"email": email})

    @property
    def policy(self) -> str:
        """The list's policy for this type of request (``open``, ``confirm``, ...)."""
        raise NotImplementedError

    def confirm(self, token: str) -> Outcome:
        """The requester's confirmation: moderation next, or the request carried out."""
        pending = self.site.lists.get_pending(token)
        if pending is not None and pending.data.get("token_owner") == "moderator":
            email = str(pending.data.get("email", ""))
            text = _NOT_YOURS[self.request_type]
            values = {"email": email}
            return Outcome("awaiting-moderator", text, email, token, "moderator", values=values)
        pending = self.take(token)
        if pending is None:
            return self.unknown_token(token)
        data = dict(pending.data)
        email = str(data["email"])
        self._confirmed(email, data)
        event = ConfirmationEvent(self.mlist.list_id, email, self.request_type, token)
        self.site.events.notify(event)
        if self.policy in MODERATE_POLICIES and not data.get("pre_approved"):
            return self.wait_for("moderator", data)
        return self._finish(data)

    def _confirmed(self, email: str, data: Mapping[str, Any]) -> None:
        """What the requester's confirmation proves, recorded before anything else."""

    def moderate(self, token: str, action: ModeratorAction, reason: str | None = None) -> Outcome:
        """A moderator's decision; accepting also settles a request awaiting its requester."""
        pending = self.site.lists.get_pending(token)
        if pending is None or not self._ours(pending):
            return self.unknown_token(token)
        if action == "defer":
            email = str(pending.data.get("email", ""))
            text = _DEFERRED[self.request_type]
            return Outcome("deferred", text, email, token, values={"email": email})
        pending = self.take(token)
        if pending is None:
            return self.unknown_token(token)
        if action != "accept":
            return self.refuse(pending, action, reason)
        return self._finish(dict(pending.data))

    def _finish(self, data: Mapping[str, Any]) -> Outcome:
        """Carry out an approved request (subscribe, unsubscribe)."""
        raise NotImplementedError

    def take(self, token: str) -> IPending | None:
        """The live pending of this workflow's type and list, taken out; None if not."""
        pending = self.site.lists.get_pending(token)
        if pending is None or not self._ours(pending):
            return None
        return self.site.lists.confirm(token)

    def _ours(self, pending: IPending) -> bool:
        return pending.type == self.request_type and pending.list_id == self.mlist.list_id

    def unknown_token(self, token: str) -> Outcome:
        text = _(
            "The confirmation token $token is unknown or has expired; "
            "please send your request again."
        )
        return Outcome("unknown-token", text, token=token, values={"token": token})

    def refuse(self, pending: IPending, action: ModeratorAction, reason: str | None) -> Outcome:
        """Reject (telling the requester) or discard (silently) a request taken out."""
        email = str(pending.data.get("email", ""))
        if action == "reject":
            why = reason or "No reason given"
            self.notify("request-refused", [email], address=email, reason=why)
            text = _("The request of $email was rejected.")
            return Outcome("rejected", text, email, values={"email": email})
        text = _("The request of $email was discarded.")
        return Outcome("discarded", text, email, values={"email": email})
