"""Count the post: the list's ``post_id`` goes up by one and ``last_post_at`` is now.

Runs after the subject prefix used the current number, so ``[dev 7]`` is post 7.
Where the subject shows the number (``%d`` in ``subject_prefix``), each post is counted
in its own transaction, once per Message-ID: a redone entry (its runner was killed
after the count) keeps the number it got, and the subject prefix shows that number
again.  Elsewhere nothing shows a post's number, and the post is counted from a block
of numbers reserved ahead (``shown=False``, ``model/post_counts.py``): monotonic and
never handed out twice, a kill leaves a gap, and the pipeline runner gives back what is
left of a block within seconds, so ``post_id`` is exact again after a burst.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.handlers.subject_prefix import shows_number
from posthorn.interfaces.lists import IMailingList

__all__ = ["AfterDelivery"]


class AfterDelivery(Handler):
    name = "after-delivery"
    description = "Count the post and remember when the list last had one."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if not shows_number(mlist.subject_prefix):
            self.site.lists.record_post(mlist, shown=False)
            return
        message_id = msg.get("message-id")
        self.site.lists.record_post(mlist, str(message_id) if message_id else None)
