"""A chain and handlers that SIGKILL their own runner once, at a chosen point.

Named by dotted path in the configuration: ``HoldThenCrash`` as a list's
``posting_chain`` (it holds every post, and kills the incoming runner right after the
first hold, before the entry is finished); ``AcceptThenCrash`` and ``RejectThenCrash``
likewise right after the first hand-over to the pipeline or the first reject notice;
``CrashOnce`` subclasses as pipeline handlers, placed between the database change and
the enqueue that goes with it.  Each kills only once: a flag file
``var/crashed-NAME`` records that it did.
"""

from __future__ import annotations

import os
import signal
from email.message import Message
from typing import Any

from posthorn.chains.accept import AcceptChain
from posthorn.chains.hold import HoldChain
from posthorn.chains.reject import RejectChain
from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.rules import ChainContext
from posthorn.site import Site


def crash_once(site: Site, name: str) -> None:
    flag = site.config.path("var_dir") / f"crashed-{name}"
    if not flag.exists():
        flag.touch()
        os.kill(os.getpid(), signal.SIGKILL)


class HoldThenCrash(HoldChain):
    name = "hold-then-crash"
    description = "Hold every post; SIGKILL the runner after the first hold."

    def process(
        self, context: ChainContext, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
    ) -> None:
        msgdata.setdefault("moderation_reasons", ["held by the crash test"])
        super().process(context, mlist, msg, msgdata)
        crash_once(self.site, self.name)


class CrashAfterCount(Handler):
    name = "crash-after-count"
    description = "SIGKILL the pipeline once, after after-delivery counted the post."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        crash_once(self.site, self.name)


class CrashAfterEnqueue(Handler):
    name = "crash-after-enqueue"
    description = "SIGKILL the pipeline once, after to-outgoing queued the post."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        crash_once(self.site, self.name)


class AcceptThenCrash(AcceptChain):
    name = "accept-then-crash"
    description = "Accept every post; SIGKILL the runner after the first hand-over."

    def process(
        self, context: ChainContext, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
    ) -> None:
        super().process(context, mlist, msg, msgdata)
        crash_once(self.site, self.name)


class CrashAfterNoticeEnqueue(Handler):
    name = "crash-after-notice-enqueue"
    description = "SIGKILL the virgin runner once, after to-outgoing queued a notice."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        crash_once(self.site, self.name)


class RejectThenCrash(RejectChain):
    name = "reject-then-crash"
    description = "Reject every post; SIGKILL the runner after the first notice is queued."

    def process(
        self, context: ChainContext, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
    ) -> None:
        msgdata.setdefault("moderation_reasons", ["rejected by the crash test"])
        super().process(context, mlist, msg, msgdata)
        crash_once(self.site, self.name)
