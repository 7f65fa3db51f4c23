"""Add the list's headers: identification (RFC 2919), commands (RFC 2369), replies.

Adds ``X-BeenThere`` (loop detection), ``Precedence: list``, ``List-Id``, the RFC 2369
``List-*`` headers (unless ``include_rfc2369_headers`` is off; RFC 8058
``List-Unsubscribe-Post`` only goes with an HTTPS unsubscribe URL, which lists do not
have yet, so an old one is removed and none added), ``Message-ID-Hash`` and
``X-Message-ID-Hash`` (the archive permalink key) and ``Archived-At`` for every
enabled archiver that can compute
a permalink.  Reply-To follows ``reply_goes_to_list``, after ``first_strip_reply_to``.
A message without a Message-ID gets one, since the permalink depends on it.  msgdata
``virgin`` (set by the virgin runner): no List-Post, no Reply-To munging.
"""

from __future__ import annotations

from email.message import Message
from email.utils import formataddr, getaddresses, make_msgid
from typing import Any

from posthorn.archivers.loading import enabled_archivers, for_list
from posthorn.handlers.base import Handler
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.messages import message_id_hash
from posthorn.messages.dropping import drop_headers

__all__ = ["CookHeaders"]

RFC2369 = (
    "list-id",
    "list-help",
    "list-post",
    "list-subscribe",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-archive",
    "list-owner",
)


# The fields every post gets anew (see process).
REPLACED = ("x-beenthere", "precedence", "message-id-hash", "x-message-id-hash")


def _replace(msg: Message, name: str, value: str) -> None:
    del msg[name]
    msg[name] = value


class CookHeaders(Handler):
    name = "cook-headers"
    description = "Add List-*, Precedence, X-BeenThere, Message-ID-Hash; apply Reply-To."

    def __init__(self, context: HandlerContext) -> None:
        super().__init__(context)
        # The archive runner builds its archivers the same way, so the Archived-At
        # members get is the permalink the archive serves.
        self._archivers = enabled_archivers(self.site)

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if msg.get("message-id") is None:
            msg["Message-ID"] = make_msgid(domain=mlist.mail_host)
        virgin = bool(msgdata.get("virgin"))
        # Each field replaced goes to the end, in this order, as by a del and a set
        # each.  Every field dropped here is dropped in one walk over the fields, before
        # any is added: no field added below bears the name of one dropped later.
        dropped = list(REPLACED)
        if mlist.archive_policy != "never":
            dropped.append("archived-at")
        if not virgin and mlist.first_strip_reply_to:
            dropped.append("reply-to")
        if mlist.include_rfc2369_headers:
            dropped += RFC2369
        drop_headers(msg, dropped)
        msg["X-BeenThere"] = mlist.posting_address
        msg["Precedence"] = "list"
        hashed = message_id_hash(str(msg["message-id"]))
        msg["Message-ID-Hash"] = hashed
        msg["X-Message-ID-Hash"] = hashed
        self._archived_at(mlist, msg)
        if not virgin:
            self._reply_to(mlist, msg)
        if mlist.include_rfc2369_headers:
            self._list_headers(mlist, msg, virgin)

    def _archived_at(self, mlist: IMailingList, msg: Message) -> None:
        # Any Archived-At the post came with is gone already (process).
        if mlist.archive_policy == "never":
            return
        for archiver in for_list(self._archivers, mlist).values():
            try:
                url = archiver.permalink(mlist, msg)
            except Exception:
                self.log.exception("archiver %s: no permalink", archiver.name)
                continue
            if url:
                msg["Archived-At"] = f"<{url}>"

    def _reply_to(self, mlist: IMailingList, msg: Message) -> None:
        # With first_strip_reply_to, the post's Reply-To is gone already (process).
        policy = mlist.reply_goes_to_list
        if policy == "no_munging":
            return
        if policy == "point_to_list":
            target = formataddr((mlist.display_name, mlist.posting_address))
        else:
            target = mlist.reply_to_address
        if not target:
            return
        existing = [] if policy == "explicit_header_only" else msg.get_all("reply-to", [])
        seen = {target.lower()}
        merged = [target]
        for name, address in getaddresses([str(value) for value in existing]):
            if address and address.lower() not in seen:
                seen.add(address.lower())
                merged.append(formataddr((name, address)))
        _replace(msg, "Reply-To", ", ".join(merged))

    def _list_headers(self, mlist: IMailingList, msg: Message, virgin: bool) -> None:
        # The post's own List-* fields are gone already (process).
        label = mlist.display_name or mlist.list_name
        msg["List-Id"] = f"{label} <{mlist.list_id}>"
        request = mlist.request_address
        msg["List-Help"] = f"<mailto:{request}?subject=help>"
        if not virgin and mlist.allow_list_posts:
            msg["List-Post"] = f"<mailto:{mlist.posting_address}>"
        msg["List-Subscribe"] = f"<mailto:{mlist.join_address}>"
        msg["List-Unsubscribe"] = f"<mailto:{mlist.leave_address}>"
        msg["List-Owner"] = f"<mailto:{mlist.owner_address}>"
        for archiver in for_list(self._archivers, mlist).values():
            try:
                url = archiver.list_url(mlist)
            except Exception:
                self.log.exception("archiver %s: no list URL", archiver.name)
                continue
            if url:
                msg["List-Archive"] = f"<{url}>"
