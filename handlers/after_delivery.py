"""Count the post: the list's ``post_id`` goes up by one and ``last_post_at`` is now.

Runs after the subject prefix used the current number, so ``[dev 7]`` is post 7.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList

__all__ = ["AfterDelivery"]


class AfterDelivery(Handler):
    name = "after-delivery"
    description = "Count the post and remember when the list last had one."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        self.site.lists.record_post(mlist)
