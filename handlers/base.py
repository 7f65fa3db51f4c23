"""What every built-in handler shares: it keeps its context.

Not a handler itself; handlers subclass ``Handler`` so that the pipeline runner can
build each of them the same way, ``cls(context)``.
"""

from __future__ import annotations

import logging
from email.message import Message
from typing import Any, ClassVar

from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList

__all__ = ["Handler"]


class Handler:
    """Base of the built-in handlers; see ``posthorn.interfaces.handlers.IHandler``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self, context: HandlerContext) -> None:
        self.context = context
        self.site = context.site
        self.log = logging.getLogger("posthorn.pipeline")

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        raise NotImplementedError
