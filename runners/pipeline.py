"""The pipeline runner: runs each accepted post through its list's pipeline.

The pipeline is ``msgdata["pipeline"]`` when set (owner posts, notices), otherwise the
list's ``posting_pipeline``.  A handler raising ``DiscardMessage`` ends the run with a
log line; ``RejectMessage`` sends the poster a notice through queue ``virgin``;
``HoldMessage`` runs the ``hold`` chain (the held store and the notices), with the
handler's reason added to ``moderation_reasons``.  Any other exception shunts the entry
(the base class), so nothing is lost.

Between entries and when it stops, the runner gives back the post numbers left of the
blocks after-delivery reserved (``IListManager.settle_posts``), so a list's
``post_id`` is exact again within seconds of a burst.
"""

from __future__ import annotations

from email.message import Message
from typing import Any, ClassVar

from posthorn.chains import load_chain
from posthorn.i18n import _, recipient_translator
from posthorn.interfaces.handlers import (
    DiscardMessage,
    HandlerContext,
    HoldMessage,
    RejectMessage,
)
from posthorn.interfaces.lists import IMailingList
from posthorn.messages.flattening import Flattener
from posthorn.messages.notices import make_notice, notice_id, poster_of
from posthorn.pipelines import PipelineSet
from posthorn.runners.base import Runner
from posthorn.runners.retrying import DATABASE_RETRY_PAUSE, DATABASE_UNAVAILABLE
from posthorn.site import Site

__all__ = ["PipelineRunner"]


class PipelineRunner(Runner):
    # A burst of posts to one list looks the list up once a second (see Runner).
    list_cache = True

    #: The pipeline to run when msgdata names none; None means the list's own.
    default_pipeline: ClassVar[str | None] = None

    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        context = HandlerContext(site, self._enqueue)
        self.pipelines = PipelineSet(site.config, site.registry, context)
        self._flattener = Flattener()

    def periodic(self) -> float | None:
        return self._settle()

    def run_once(self) -> int:
        # A drain leaves the counters exact, as a runner's stop does.
        handled = super().run_once()
        self._settle(0.0)
        return handled

    def close(self) -> None:
        self._settle(0.0)
        super().close()

    def _settle(self, *older_than: float) -> float | None:
        try:
            return self.site.lists.settle_posts(*older_than)
        except DATABASE_UNAVAILABLE as error:
            # The numbers stay reserved (a gap at worst); tried again shortly.
            self.log.warning("post numbers not given back: %s", error)
            return DATABASE_RETRY_PAUSE

    def _enqueue(self, queue: str, msg: Message, msgdata: dict[str, Any]) -> str:
        # A post that no handler changed between two of its copies (archive, then
        # outgoing) is written to bytes once.
        return self.enqueue(queue, self._flattener.entry_of(msg, msgdata), msgdata)

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        if mlist is None:
            raise ValueError("the entry names no list (msgdata list_id)")
        name = str(msgdata.get("pipeline") or self.default_pipeline or mlist.posting_pipeline)
        pipeline = self.pipelines.get(name)
        try:
            pipeline.process(mlist, msg, msgdata)
        except DiscardMessage as discard:
            self.log.info(
                "%s: discarded %s: %s", mlist.list_id, msg.get("message-id", "?"), discard
            )
        except RejectMessage as reject:
            self._reject(mlist, msg, msgdata, reject)
        except HoldMessage as hold:
            data = dict(msgdata)
            data["moderation_reasons"] = [*data.get("moderation_reasons", ()), hold.reason]
            data["reason_texts"] = [*data.get("reason_texts", ()), [hold.reason, {}]]
            held = hold.original if hold.original is not None else msg
            load_chain(self.site, "hold").process(self, mlist, held, data)
        finally:
            self._flattener.forget()

    def _reject(
        self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any], reject: RejectMessage
    ) -> None:
        poster = poster_of(msg, msgdata)
        self.log.info(
            "%s: rejected %s from %s: %s",
            mlist.list_id,
            msg.get("message-id", "?"),
            poster or "unknown",
            reject.notice,
        )
        if not poster:
            return
        translate = recipient_translator(self.site, mlist, poster)
        subject = translate(
            _("Your message to $posting_address was rejected"),
            posting_address=mlist.posting_address,
        )
        text = translate(reject.text, **reject.values)
        mid = notice_id(mlist, "reject", msg)  # a redone entry rejects once
        notice, data = make_notice(mlist, [poster], subject, text, msg, message_id=mid,
                                   charset=translate.charset)  # fmt: skip
        self.enqueue("virgin", notice, data)
