"""A rule that fails while ``var/explode`` exists: for the shunt-and-unshunt tests."""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.rules import Rule


class Explode(Rule):
    name = "explode"
    description = "Raises while the marker file exists."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        if (self.site.config.path("var_dir") / "explode").exists():
            raise RuntimeError("the explode rule is broken")
        return False
