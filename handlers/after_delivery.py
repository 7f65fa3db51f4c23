"""Count the post: the list's ``post_id`` goes up by one and ``last_post_at`` is now.

Runs after the subject prefix used the current number, so ``[dev 7]`` is post 7.
Counts once per Message-ID: a redone entry (its runner was killed after the count)
keeps the number it got, and the subject prefix shows that number again.
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
        message_id = msg.get("message-id")
        self.site.lists.record_post(mlist, str(message_id) if message_id else None)
