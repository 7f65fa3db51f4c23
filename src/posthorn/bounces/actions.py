"""What follows a bounce: score it, disable the member, warn, unsubscribe, tell the owners.

``BounceActions`` works on one site with an injectable clock and a ``send`` callable
that queues a notice (the runner passes ``enqueue`` on ``virgin``), so tests can drive
days and weeks of bounce history in a moment.  The steps follow GNU Mailman:

- a bounce adds at most one to the member's score per day (``scoring.py``);
- at ``bounce_score_threshold`` delivery is disabled (``by_bounces``), the member gets
  the first warning and, if the list asks, the owners a notice;
- ``sweep`` (run periodically) sends the next warning once
  ``bounce_you_are_disabled_warnings_interval`` has passed, and after
  ``bounce_you_are_disabled_warnings`` warnings unsubscribes the member, telling the
  owners if ``bounce_notify_owner_on_removal``;
- a member whose delivery was re-enabled meanwhile starts afresh.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime
from email.message import Message
from typing import Any

from posthorn.bounces.notices import render
from posthorn.bounces.scoring import add_bounce, duration, warning_due
from posthorn.i18n import list_translator, recipient_translator
from posthorn.interfaces.lists import IMailingList, IMember
from posthorn.messages.notices import make_notice
from posthorn.model.base import utc_now
from posthorn.model.bounces import BounceRecords, BounceState
from posthorn.site import Site

__all__ = ["BounceActions", "Send"]

Send = Callable[[Message, dict[str, Any]], None]


class BounceActions:
    def __init__(
        self,
        site: Site,
        send: Send,
        *,
        log: logging.Logger | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.site = site
        self.records = BounceRecords(site.databases.session_factory("list"))
        self._send = send
        self._log = log or logging.getLogger("posthorn.bounce")
        self._now = clock

    def register(self, mlist: IMailingList, email: str) -> BounceState | None:
        """Score one bounce of ``email``; None when it is no member or not receiving."""
        member = self.site.lists.roster(mlist).get_member(email)
        if member is None:
            self._log.info("%s: bounce for %s, who is not a member", mlist.list_id, email)
            return None
        if member.delivery_status != "enabled":
            self._log.info("%s: bounce for %s, already %s", mlist.list_id, email,
                           member.delivery_status)  # fmt: skip
            return None
        now = self._now()
        state = self.records.get(mlist.list_id, member.email)
        scored = add_bounce(state, now, duration(mlist.bounce_info_stale_after))
        if scored is None:
            self._log.info("%s: %s bounced again today; score stays %d",
                           mlist.list_id, email, state.score)  # fmt: skip
            return state
        self.records.save(scored)
        self._log.info("%s: %s bounce score %d", mlist.list_id, email, scored.score)
        if mlist.bounce_notify_owner_on_bounce_increment:
            self._to_owners(mlist, "increment", email=member.email, score=scored.score)
        if scored.score >= mlist.bounce_score_threshold:
            return self._disable(mlist, member, scored)
        return scored

    def _disable(self, mlist: IMailingList, member: IMember, state: BounceState) -> BounceState:
        self.site.lists.update_member(member.member_id, delivery_status="by_bounces")
        self._log.info("%s: delivery to %s disabled (bounces)", mlist.list_id, member.email)
        if mlist.bounce_notify_owner_on_disable:
            self._to_owners(mlist, "disabled", email=member.email, score=state.score)
        if mlist.bounce_you_are_disabled_warnings > 0:
            state = self._warn(mlist, state)
        return state

    def _warn(self, mlist: IMailingList, state: BounceState) -> BounceState:
        warned = dataclasses.replace(
            state, warnings_sent=state.warnings_sent + 1, last_warning=self._now()
        )
        translate = recipient_translator(self.site, mlist, state.email)
        subject, text = render(
            "warning", mlist, translate, email=state.email, warning=warned.warnings_sent
        )
        self._send(*make_notice(mlist, [state.email], subject, text, charset=translate.charset))
        self.records.save(warned)
        self._log.info("%s: warning %d sent to %s", mlist.list_id, warned.warnings_sent,
                       state.email)  # fmt: skip
        return warned

    def sweep(self, mlist: IMailingList) -> None:
        """Send the warnings that are due and remove members warned often enough."""
        now = self._now()
        interval = duration(mlist.bounce_you_are_disabled_warnings_interval)
        roster = self.site.lists.roster(mlist)
        for state in self.records.for_list(mlist.list_id):
            member = roster.get_member(state.email)
            if member is None:
                self.records.forget(mlist.list_id, state.email)
            elif member.delivery_status == "enabled" and state.warnings_sent:
                # Re-enabled after warnings: the old record says nothing about now.
                self.records.forget(mlist.list_id, state.email)
            elif member.delivery_status != "by_bounces":
                continue
            elif state.warnings_sent >= mlist.bounce_you_are_disabled_warnings:
                if warning_due(state, now, interval):
                    self._remove(mlist, state)
            elif warning_due(state, now, interval):
                self._warn(mlist, state)

    def _remove(self, mlist: IMailingList, state: BounceState) -> None:
        self.site.lists.unsubscribe(mlist, state.email)
        self.records.forget(mlist.list_id, state.email)
        self._log.info("%s: %s unsubscribed (bounces)", mlist.list_id, state.email)
        if mlist.bounce_notify_owner_on_removal:
            self._to_owners(mlist, "removed", email=state.email)

    def unrecognized(self, mlist: IMailingList, msg: Message) -> None:
        """A bounce naming no one: forward it as the list says, or drop it."""
        target = mlist.forward_unrecognized_bounces_to
        if target == "discard":
            self._log.info("%s: unrecognised bounce discarded", mlist.list_id)
            return
        if target == "site_owner":
            recipients = [self.site.config["posthorn"].get_str("site_owner")]
        else:
            recipients = [m.email for m in self.site.lists.roster(mlist).administrators]
        translate = list_translator(self.site.config, mlist)
        subject, text = render("unrecognized", mlist, translate)
        self._send(*make_notice(mlist, recipients, subject, text, original=msg,
                                charset=translate.charset))  # fmt: skip
        self._log.info("%s: unrecognised bounce forwarded to %s", mlist.list_id, target)

    def _to_owners(self, mlist: IMailingList, kind: str, **values: object) -> None:
        owners = [m.email for m in self.site.lists.roster(mlist).owners]
        if not owners:
            return
        translate = list_translator(self.site.config, mlist)
        subject, text = render(kind, mlist, translate, **values)
        self._send(*make_notice(mlist, owners, subject, text, charset=translate.charset))
