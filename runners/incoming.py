"""The incoming runner: decides the fate of every message sent to a list.

Reads queue ``incoming`` (filled by the LMTP runner).  A post to the posting address
(``to_list``) goes through the list's posting chain (``posting_chain``, by default
``default-posting-chain``: the rules, then accept / hold / reject / discard); mail for
``LIST-owner`` (``to_owner``) goes through the list's ``owner_chain`` instead, which
skips the rules.  Before either, the list's automatic answer goes out
(``autorespond_postings``/``_owner``, the ``autorespond`` handler), and with
``respond_and_discard`` the message goes no further.  Before that, the message is
made safe to work on:

- ``X-Posthorn-Rule-*`` headers from outside are removed (only we write them);
- a message without a Message-ID gets one, derived from its content so that a redone
  entry gets the same one (the message store, the held table and every archive key on
  it); a message with several keeps only the first;
- a message with no From header at all is held for a moderator, with that reason:
  someone may want it, and nothing accepted is lost;
- a message the email package left without any header, or cannot serialise again, is
  moved to queue ``bad`` with ``bad_reason`` and logged: no rule can judge it.

A process killed mid-entry leaves it claimed; the next runner redoes it.  A hold is
then recognised by the held table (same list, same message: the earlier request), and
the moderators may get their notice twice.

A rule or chain that raises leaves the entry to the base runner, which shunts it with
the traceback in ``incoming.log``; ``posthorn unshunt`` re-runs it once fixed.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.chains import load_chain
from posthorn.chains.default_posting_chain import HITS_HEADER, MISSES_HEADER
from posthorn.config import ConfigError
from posthorn.i18n import _
from posthorn.interfaces.handlers import DiscardMessage, HandlerContext, IHandler
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.rules import IChain
from posthorn.queues.entry import queue_policy
from posthorn.queues.flatten import message_sha1, message_size
from posthorn.registry import RegistryError
from posthorn.rules import add_reason
from posthorn.runners.base import Runner
from posthorn.site import Site

__all__ = ["IncomingRunner"]

BAD_QUEUE = "bad"


class IncomingRunner(Runner):
    # A burst of posts to one list looks the list up once a second (see Runner).
    list_cache = True

    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        self._chains: dict[str, IChain] = {}
        # Build the default chains now: a rule name that resolves to nothing is a
        # configuration error the master must not restart in a loop.
        for chain_name in ("default-posting-chain", "default-owner-chain"):
            self.chain(chain_name)
        # The list's automatic answers (handlers/autorespond.py), before any chain.
        handler = site.registry.load("handler", "autorespond")
        self.autorespond: IHandler = handler(HandlerContext(site, self.enqueue))

    def chain(self, name: str) -> IChain:
        if name not in self._chains:
            try:
                self._chains[name] = load_chain(self.site, name)
            except RegistryError as error:
                raise ConfigError(str(error)) from None
        return self._chains[name]

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        if mlist is None:
            self._to_bad(msg, msgdata, "the entry names no list")
            return
        problem = _unusable(msg)
        if problem is not None:
            self._to_bad(msg, msgdata, problem)
            return
        _prepare(msg, mlist)
        try:
            self.autorespond.process(mlist, msg, msgdata)
        except DiscardMessage as why:
            self.log.info("%s: %s discarded: %s", mlist.list_id, msg.get("message-id"), why)
            return
        if msgdata.get("to_owner"):
            self.chain(mlist.owner_chain).process(self, mlist, msg, msgdata)
        elif not msg.get_all("from"):
            add_reason(msgdata, _("The message has no From header"))
            self.chain("hold").process(self, mlist, msg, msgdata)
        else:
            self.chain(mlist.posting_chain).process(self, mlist, msg, msgdata)

    def _to_bad(self, msg: Message, msgdata: dict[str, Any], reason: str) -> None:
        data = dict(msgdata, bad_reason=f"{self.name}: {reason}")
        try:
            payload: Message | bytes = msg.as_bytes()
        except Exception:
            payload = str(msg.get_payload()).encode("utf-8", "surrogateescape")
        self.enqueue(BAD_QUEUE, payload, data)
        self.log.error("moved a message to %s: %s", BAD_QUEUE, reason)


def _unusable(msg: Message) -> str | None:
    """Why no rule can judge this message, or None when it can be worked on."""
    if not msg.keys():
        return "the message has no headers"
    try:
        # Under the queue's policy: the check fails where the enqueue would, and the
        # headers it folds are remembered (messages/folding.py) for the enqueue's copy.
        message_size(msg, queue_policy(msg))
    except Exception as error:
        return f"the message cannot be serialised: {type(error).__name__}: {error}"
    return None


def _prepare(msg: Message, mlist: IMailingList) -> None:
    # One walk of the fields instead of a rebuild of them per name: most posts have none.
    present = {name.lower() for name in msg}
    for name in (HITS_HEADER, MISSES_HEADER):
        if name.lower() in present:
            del msg[name]
    ids = msg.get_all("message-id") or []
    if not ids or not str(ids[0]).strip():
        # Derived from the content, so an entry redone after a crash gets the same
        # Message-ID and the held table and message store recognise it.
        del msg["Message-ID"]
        digest = message_sha1(msg)
        msg["Message-ID"] = f"<{digest}@{mlist.mail_host}>"
    elif len(ids) > 1:
        first = str(ids[0])
        del msg["Message-ID"]
        msg["Message-ID"] = first
