"""The task runner's periodic jobs: housekeeping that no message triggers.

Each job is one method returning a line for the log, and each is safe to run twice
in a row: what it removes is gone, a digest sent recently is not sent again, and a
reminder has one Message-ID per list and day, which the outgoing runner delivers once.

- ``evict``: pending requests whose confirmation time is over are deleted (an expired
  token already acts like an unknown one; this only reclaims the rows).
- ``digests``: every list with ``digests_enabled`` and ``digest_send_periodic`` whose
  last digest is older than ``digest_interval`` gets what has gathered, whatever its
  size.  The same lock as ``posthorn digests --send`` is held, so when cron also sends,
  whichever runs second finds the digests just sent and sends nothing more.
- ``reminders``: the owners and moderators of a list that wants to hear of held
  messages (``admin_immed_notify``) are reminded of those held longer than
  ``reminder_age``.
- ``prune``: delivery records older than ``[runner.outgoing] record_age``, bounce
  scores older than each list's ``bounce_info_stale_after`` (of members not disabled),
  autoresponse records older than each list's ``autoresponse_grace_period``, and held
  messages older than each list's ``max_days_to_hold`` days (0: kept until moderated),
  which are discarded as Mailman does.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from posthorn.config.types import parse_duration
from posthorn.delivery.records import delivery_records
from posthorn.digests.send import DigestSender, Send, periodic_lock
from posthorn.errors import NoSuchMessageError
from posthorn.i18n import _, list_translator
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.messages import message_id_hash
from posthorn.messages.notices import make_notice
from posthorn.model.autoresponses import AutoResponseRecords
from posthorn.model.base import utc_now
from posthorn.model.bounces import BounceRecords
from posthorn.site import Site

__all__ = ["JOBS", "PeriodicJobs"]

# Each job and the [runner.task] key of its interval.
JOBS = {
    "evict": "evict_interval",
    "digests": "digests_interval",
    "reminders": "reminders_interval",
    "prune": "prune_interval",
}


_REMINDER = _("""\
$count message(s) to the $display_name mailing list ($posting_address) wait for a moderator:

$held

Accept, reject or discard them with: posthorn moderate $fqdn_listname ID ACTION
""")


class PeriodicJobs:
    def __init__(self, site: Site, send: Send, *, log: logging.Logger | None = None) -> None:
        self.site = site
        self._send = send
        self._log = log or logging.getLogger("posthorn.task")
        section = site.config.runner("task")
        self.digest_interval = section.get_float("digests_interval")
        self.reminder_age = section.get_float("reminder_age")

    def run(self, name: str) -> str:
        """Run the job ``name``; what it did, for the log."""
        if name not in JOBS:
            raise ValueError(f"no periodic job named {name!r} (known: {', '.join(JOBS)})")
        result: str = getattr(self, name)()
        return result

    def evict(self) -> str:
        return f"evicted {self.site.lists.evict_expired()} expired pending request(s)"

    def digests(self) -> str:
        sender = DigestSender(self.site, self._send, log=self._log)
        sent = 0
        with periodic_lock(self.site):
            # Read inside the lock: a cron run that held it has just set the dates.
            now = utc_now()
            for mlist in self.site.lists.lists():
                if not (mlist.digests_enabled and mlist.digest_send_periodic):
                    continue
                last = mlist.digest_last_sent_at
                if last is not None and now - last < timedelta(seconds=self.digest_interval):
                    continue
                sent += sender.run(mlist, force=True)
        return f"sent {sent} periodic digest issue(s)"

    def reminders(self) -> str:
        reminded = 0
        for mlist in self.site.lists.lists():
            if mlist.admin_immed_notify and self._remind(mlist):
                reminded += 1
        return f"reminded the moderators of {reminded} list(s) of held messages"

    def _remind(self, mlist: IMailingList) -> bool:
        now = utc_now()
        limit = now - timedelta(seconds=self.reminder_age)
        old = [h for h in self.site.messages.held_for_list(mlist.list_id) if h.held_on < limit]
        admins = sorted({m.email for m in self.site.lists.roster(mlist).administrators})
        if not old or not admins:
            return False
        translate = list_translator(self.site.config, mlist)
        line = _("$request_id: $subject (from $sender, held since $held_on UTC)")
        lines = [
            "  " + translate(line, request_id=h.request_id, subject=h.subject, sender=h.sender,
                             held_on=f"{h.held_on:%Y-%m-%d %H:%M}")
            for h in old
        ]  # fmt: skip
        names = {"count": len(old), "display_name": mlist.display_name}
        text = translate(
            _REMINDER, posting_address=mlist.posting_address, held="\n".join(lines),
            fqdn_listname=mlist.fqdn_listname, **names,
        )  # fmt: skip
        day = f"{mlist.list_id}/{now:%Y-%m-%d}"
        mid = f"<posthorn.reminder.{message_id_hash(day).lower()}@{mlist.mail_host}>"
        title = translate(_("$count $display_name message(s) wait for moderation"), **names)
        notice, data = make_notice(mlist, admins, title, text, kind="reminder", message_id=mid,
                                   charset=translate.charset)  # fmt: skip
        self._send(notice, data)
        return True

    def prune(self) -> str:
        age = self.site.config.runner("outgoing").get_float("record_age")
        records = delivery_records(self.site).prune(age)
        sessions = self.site.databases.session_factory("list")
        bounces = BounceRecords(sessions)
        responses = AutoResponseRecords(sessions)
        scores = replies = expired = 0
        now = utc_now()
        for mlist in self.site.lists.lists():
            expired += self._expire_held(mlist)
            stale = now - timedelta(seconds=parse_duration(mlist.bounce_info_stale_after))
            scores += bounces.prune(mlist.list_id, stale, mlist.bounce_score_threshold)
            grace = timedelta(seconds=parse_duration(mlist.autoresponse_grace_period))
            replies += responses.prune(mlist.list_id, (now - grace).date())
        return (
            f"removed {records} delivery record(s), {scores} stale bounce score(s), "
            f"{replies} autoresponse record(s), {expired} held message(s) past max_days_to_hold"
        )

    def _expire_held(self, mlist: IMailingList) -> int:
        """Discard the list's messages held longer than ``max_days_to_hold`` (0: never)."""
        if mlist.max_days_to_hold <= 0:
            return 0
        limit = utc_now() - timedelta(days=mlist.max_days_to_hold)
        expired = 0
        for held in self.site.messages.held_for_list(mlist.list_id):
            if held.held_on < limit:
                with contextlib.suppress(NoSuchMessageError):  # a moderator was quicker
                    self.site.messages.remove_held(held.request_id)
                    expired += 1
                    self._log.info("%s: discarded request %d, held since %s",
                                   mlist.list_id, held.request_id, held.held_on)  # fmt: skip
        return expired
