"""Pipeline handlers: the steps a post goes through between moderation and delivery.

A handler is built once per pipeline runner with a ``HandlerContext`` (the site and a
way to put messages on other queues) and then called for every message the pipeline
runs.  It changes ``msg`` and ``msgdata`` in place.  It stops the pipeline only by
raising ``DiscardMessage`` (the message is dropped and logged), ``RejectMessage``
(the poster is sent a notice saying why) or ``HoldMessage`` (the post is kept for a
moderator); the pipeline runner alone decides where the message then goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from string import Template
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from posthorn.interfaces.lists import IMailingList

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["DiscardMessage", "HandlerContext", "HoldMessage", "IHandler", "RejectMessage"]

Enqueue = Callable[[str, Message, dict[str, Any]], str]


class DiscardMessage(Exception):
    """Stop the pipeline and drop the message; the reason goes to the log."""


class HoldMessage(Exception):
    """Stop the pipeline and hold the post for a moderator, saying why.

    ``original`` is the post to hold when the handler has already changed ``msg``
    (None: hold ``msg`` as it is).
    """

    def __init__(self, reason: str, original: Message | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.original = original


class RejectMessage(Exception):
    """Stop the pipeline and tell the poster why; ``notice`` is the text they get.

    ``text`` is the sentence as written (marked with ``_``, ``$placeholders`` filled
    from ``values``), so the poster can be told in their own language; ``notice`` is
    it in English.
    """

    def __init__(self, text: str, **values: object) -> None:
        self.text = text
        self.values = {name: str(value) for name, value in values.items()}
        self.notice = Template(text).safe_substitute(self.values)
        super().__init__(self.notice)


@dataclass(frozen=True)
class HandlerContext:
    """What a handler may use: the site, and ``enqueue(queue, msg, msgdata)``."""

    site: Site
    enqueue: Enqueue


@runtime_checkable
class IHandler(Protocol):
    """One step of a pipeline, named in kebab-case (``cook-headers``)."""

    name: str
    description: str

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        """Change the message or its metadata, or raise DiscardMessage/RejectMessage."""
