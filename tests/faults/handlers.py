"""Pipeline handlers that misbehave on one message, named by dotted path in the config.

``Poison`` raises on a post whose Subject contains ``poison`` until the flag file
``var/fixed`` exists (the "fix" an administrator deploys before ``unshunt``); ``Hang``
loops forever on a post whose Subject contains ``hang``.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList


class Poison(Handler):
    name = "poison"
    description = "Fail on posts whose subject says poison, until var/fixed exists."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        fixed = self.site.config.path("var_dir") / "fixed"
        if "poison" in str(msg.get("subject", "")) and not fixed.exists():
            raise RuntimeError("poisoned message")


class Hang(Handler):
    name = "hang"
    description = "Loop forever on posts whose subject says hang."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        spins = 0
        while "hang" in str(msg.get("subject", "")):
            spins += 1
