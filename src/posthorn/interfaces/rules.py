"""Rules and chains: how the incoming runner decides a post's fate.

A rule answers one yes/no question about a post ("is it too big?", "is the sender
banned?"); a chain acts on a decision (accept it, hold it, reject it, discard it) or,
for the posting chain, runs rules in order and hands the post to the chain the first
decisive hit names.  Both are found by name in the registry (kinds ``rule`` and
``chain``), so a site adds its own by entry point or dotted path and switches it on in
``[chain.default-posting-chain] rules``.

A rule that decides more than yes/no (the moderation rules: accept, hold, reject,
discard) puts its decision in ``msgdata["moderation_action"]`` and, if it wants the
moderator or poster told why, appends to ``msgdata["moderation_reasons"]``.
"""

from __future__ import annotations

from email.message import Message
from typing import Any, ClassVar, Protocol, runtime_checkable

from posthorn.interfaces.lists import IMailingList

__all__ = ["ChainContext", "IChain", "IRule"]


@runtime_checkable
class IRule(Protocol):
    """One question about a post.

    ``name`` is kebab-case and unique among rules; ``action`` is what the posting chain
    does on a hit unless the rule sets ``msgdata["moderation_action"]``; ``record`` is
    false for rules whose hits and misses say nothing worth keeping in the headers.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    action: ClassVar[str]
    record: ClassVar[bool]

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        """True when the rule matches.  It may read the list and the site but must not
        change the message: only the posting chain and the chains act."""


class ChainContext(Protocol):
    """What a chain may use: the site, a logger and the queues (the incoming runner)."""

    @property
    def site(self) -> Any: ...

    @property
    def log(self) -> Any: ...

    def enqueue(self, queue_name: str, msg: Message | bytes, msgdata: dict[str, Any]) -> str: ...


@runtime_checkable
class IChain(Protocol):
    """Acts on a post: passes it on, holds, rejects or discards it."""

    name: ClassVar[str]
    description: ClassVar[str]

    def process(
        self, context: ChainContext, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
    ) -> None:
        """Do with the post whatever this chain stands for; raising leaves the entry to
        be shunted by the runner, so nothing is lost."""
