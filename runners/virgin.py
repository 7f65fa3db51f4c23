"""The virgin runner: messages Posthorn writes itself go through the short pipeline.

Notices (rejections, delivery failures, confirmations) arrive with ``recipients`` and
usually ``sender`` in msgdata, a digest issue with ``delivery_modes``; the ``virgin``
pipeline adds the list headers a notice needs and queues it for ``outgoing``, which
delivers to exactly those recipients (or the members of those modes).
Everything here but a digest issue is marked as a notice (``messages.notices``), also
what was queued without a mark, so that a refused one never brings a notice about it.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.messages.notices import mark_notice
from posthorn.runners.pipeline import PipelineRunner

__all__ = ["VirginRunner"]


class VirginRunner(PipelineRunner):
    default_pipeline = "virgin"

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        msgdata["virgin"] = True
        if not msgdata.get("digest"):
            mark_notice(msg, msgdata)
        # A notice goes to whom it names, never to the whole roster; a digest issue to
        # the members of its delivery modes.
        if not msgdata.get("delivery_modes"):
            msgdata.setdefault("recipients", [])
        super().process(mlist, msg, msgdata)
