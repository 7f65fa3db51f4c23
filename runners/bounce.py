"""The bounce runner: attribute each bounce to members, score them, act on the scores.

Reads queue ``bounce``, fed by the LMTP runner (``LIST-bounces`` and the VERP form
``LIST-bounces+user=host``, with ``verp_recipient`` in msgdata) and by the outgoing
runner (``bounce_source: smtp`` with ``smtp_failures``).  Attribution, scoring and
the actions are in ``posthorn.bounces``; notices go to queue ``virgin``.

A list with ``process_bounces`` off has its bounces logged and dropped.  A bounce that
names no member of the list goes where ``forward_unrecognized_bounces_to`` says.

Besides its queue, instance 0 sweeps every list each ``check_interval`` (section
``[runner.bounce]``): warnings to members disabled for bounces fall due, and members
warned often enough are unsubscribed, whether or not any bounce arrives.  The sweep
is site-wide: it runs under the site lock ``bounce-sweep`` (``posthorn.site_lock``),
so with a bounce runner on every host each due sweep runs on one of them.
"""

from __future__ import annotations

import time
from email.message import Message
from functools import partial
from typing import Any

from posthorn.bounces.actions import BounceActions
from posthorn.bounces.attribution import attribute
from posthorn.interfaces.lists import IMailingList
from posthorn.runners.aside import run_aside
from posthorn.runners.base import ExitCode, Runner
from posthorn.site import Site
from posthorn.site_lock import SiteLocks

__all__ = ["BounceRunner"]


class BounceRunner(Runner):
    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        self.check_interval = self.section.get_float("check_interval")
        self.actions = BounceActions(site, self._send, log=self.log)
        self.locks = SiteLocks.from_site(site)
        self._next_sweep = 0.0

    def _send(self, msg: Message, msgdata: dict[str, Any]) -> None:
        self.enqueue("virgin", msg, msgdata)

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        if mlist is None:
            self.log.info("bounce for no list (to %s) dropped", msgdata.get("original_recipient"))
            return
        if not mlist.process_bounces:
            self.log.info("%s: bounce processing is off; bounce dropped", mlist.list_id)
            return
        found = attribute(msg, msgdata)
        named = ", ".join(sorted(found.addresses))
        self.log.info("%s: bounce (%s) for %s", mlist.list_id, found.source, named or "no one")
        # A bounce about strangers only (a post's recipients that are not subscribed,
        # an address the body quotes from elsewhere) tells the owners as little as one
        # naming no one, and goes to the same place.
        roster = self.site.lists.roster(mlist)
        if not any(roster.get_member(address) is not None for address in found.addresses):
            self.actions.unrecognized(mlist, msg)
            return
        for address in sorted(found.addresses):
            self.actions.register(mlist, address)

    def sweep(self) -> None:
        """Warnings and removals that are due, on every list that processes bounces."""
        try:
            mlists = list(self.site.lists.lists())
        except Exception:
            # Runs outside any entry, so nothing else would catch it: a database that
            # is away for a while must cost one sweep, not the process.
            self.log.exception("bounce sweep failed: cannot list the lists")
            return
        for mlist in mlists:
            if mlist.process_bounces:
                try:
                    self.actions.sweep(mlist)
                except Exception:
                    # One list's trouble must not stop the others' warnings.
                    self.log.exception("%s: bounce sweep failed", mlist.list_id)

    def _loop(self) -> ExitCode:
        handled = 0
        while not self._should_stop():
            if self.slice == 0 and time.monotonic() >= self._next_sweep:
                sweep = partial(
                    self.locks.run_due, "bounce-sweep", self.check_interval, self.sweep, self.log
                )
                wait = run_aside(self.site, sweep)
                self._next_sweep = time.monotonic() + wait
            files = self.switchboard.get_files()
            for filebase in files:
                if self._should_stop():
                    break
                self._process_entry(filebase)
                handled += 1
                if self.max_messages and handled >= self.max_messages:
                    return ExitCode.RECYCLE
            if not files:
                pause = self._next_sweep - time.monotonic() if self.slice == 0 else self.sleep_time
                self._wait(max(0.01, min(self.sleep_time, pause)))
        return ExitCode.OK
