"""default-posting-chain: run the posting rules in order and act on the outcome.

The rules and their order are configuration: ``[chain.default-posting-chain] rules``
names them (built-in names, entry points or dotted paths), each optionally as
``name=action`` to override the action the rule carries.  For each rule in turn:

- a miss, or a hit whose action is ``defer``, goes on to the next rule;
- a ``hold`` hit is remembered and the next rule is asked, so the held record lists
  every reason (too big *and* no subject) at once;
- an ``accept``, ``reject`` or ``discard`` hit ends the run: reject and discard win
  over a remembered hold, accept does not (an emergency hold stays a hold);
- after the last rule the post is held if any rule said hold, else accepted.

Every rule's name is recorded in ``msgdata["rule_hits"]`` or ``["rule_misses"]`` and
in the ``X-Posthorn-Rule-Hits`` / ``X-Posthorn-Rule-Misses`` headers (any such headers
arriving from outside are removed first: they are ours to write).
"""

from __future__ import annotations

from email.message import Message
from typing import TYPE_CHECKING, Any

from posthorn.chains import Chain, load_chain
from posthorn.config import ConfigError
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.rules import ChainContext, IChain, IRule
from posthorn.registry import RegistryError
from posthorn.rules import ACTIONS, one_decision

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["HITS_HEADER", "MISSES_HEADER", "PostingChain"]

HITS_HEADER = "X-Posthorn-Rule-Hits"
MISSES_HEADER = "X-Posthorn-Rule-Misses"


class PostingChain(Chain):
    name = "default-posting-chain"
    description = "Run the posting rules and accept, hold, reject or discard the post."

    def __init__(self, site: Site) -> None:
        super().__init__(site)
        self.links = self._load_links()
        self._chains: dict[str, IChain] = {}

    def _load_links(self) -> list[tuple[IRule, str | None]]:
        section = f"chain.{self.name}"
        links: list[tuple[IRule, str | None]] = []
        for entry in self.site.config[section].get_list("rules"):
            rule_name, sep, action = entry.partition("=")
            if sep and action not in ACTIONS:
                raise ConfigError(f"{entry!r}: the action must be one of {ACTIONS}",
                                  section=section, key="rules")  # fmt: skip
            try:
                rule: IRule = self.site.registry.load("rule", rule_name)(self.site)
            except RegistryError as error:
                raise ConfigError(str(error), section=section, key="rules") from None
            links.append((rule, action if sep else None))
        return links

    def decide(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> str:
        """Run the rules; the name of the chain the post goes to next."""
        hits: list[str] = []
        misses: list[str] = []
        holding = False
        decision: str | None = None
        with one_decision():
            for rule, override in self.links:
                msgdata.pop("moderation_action", None)
                hit = rule.check(mlist, msg, msgdata)
                action = str(msgdata.pop("moderation_action", None) or override or rule.action)
                if rule.record:
                    (hits if hit else misses).append(rule.name)
                if not hit or action == "defer":
                    continue
                if action == "hold":
                    holding = True
                    continue
                decision = "hold" if action == "accept" and holding else action
                break
        self._record(msg, msgdata, hits, misses)
        return decision or ("hold" if holding else "accept")

    def _record(
        self, msg: Message, msgdata: dict[str, Any], hits: list[str], misses: list[str]
    ) -> None:
        msgdata["rule_hits"] = hits
        msgdata["rule_misses"] = misses
        del msg[HITS_HEADER]
        del msg[MISSES_HEADER]
        if hits:
            msg[HITS_HEADER] = "; ".join(hits)
        if misses:
            msg[MISSES_HEADER] = "; ".join(misses)

    def process(
        self, context: ChainContext, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
    ) -> None:
        decision = self.decide(mlist, msg, msgdata)
        if decision == "accept" and "approved" in msgdata.get("rule_hits", []):
            msgdata["approved"] = True
        if decision not in self._chains:
            self._chains[decision] = load_chain(self.site, decision)
        self._chains[decision].process(context, mlist, msg, msgdata)
