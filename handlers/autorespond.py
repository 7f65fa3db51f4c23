"""Automatic answers, as Mailman sends them: ``autorespond_postings``, ``_owner``, ``_requests``.

Each is ``none``, ``respond_and_continue`` (answer, then handle the message as usual)
or ``respond_and_discard`` (answer, then drop the message: the address takes no mail).
The answer is the list's ``autoresponse_postings_text`` / ``_owner_text`` /
``_request_text`` ($placeholders as in every notice) and goes to the poster through
queue ``virgin``, marked ``Auto-Submitted: auto-replied`` and ``X-Ack: no``.

One answer per sender, list and kind within ``autoresponse_grace_period`` (counted in
days, as Mailman does; under a day: every message is answered); the dates are in the
``autoresponses`` table.  Mail that could start a loop is never answered
(``posthorn.loops``: bulk, list or auto-submitted mail, robots' addresses, our own
notices), though ``respond_and_discard`` still drops it.

Not part of a pipeline: the incoming runner calls it for posts (``to_list``) and mail
to the owners (``to_owner``) before their chain, the command runner for ``-request``
mail (``to_request``) before the commands.  It raises ``DiscardMessage`` to drop.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import Message
from string import Template
from typing import Any

from posthorn.config.types import parse_duration
from posthorn.handlers.base import Handler
from posthorn.i18n import _, recipient_translator
from posthorn.interfaces.handlers import DiscardMessage, HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.loops import no_reply_reason
from posthorn.messages.notices import make_notice, notice_id, poster_of
from posthorn.model.autoresponses import AutoResponseRecords
from posthorn.model.base import utc_now
from posthorn.templates import list_variables

__all__ = ["AutoRespond", "kind_of"]

# msgdata flag -> (kind recorded, setting, text setting)
_KINDS = {
    "to_owner": ("owner", "autorespond_owner", "autoresponse_owner_text"),
    "to_request": ("requests", "autorespond_requests", "autoresponse_request_text"),
    "to_list": ("postings", "autorespond_postings", "autoresponse_postings_text"),
}


def kind_of(msgdata: dict[str, Any]) -> tuple[str, str, str] | None:
    """(kind, action setting, text setting) for where the message was sent, or None."""
    for flag, kind in _KINDS.items():
        if msgdata.get(flag):
            return kind
    return None


class AutoRespond(Handler):
    name = "autorespond"
    description = "Answer posts, owner and -request mail automatically, if the list says so."

    def __init__(self, context: HandlerContext) -> None:
        super().__init__(context)
        self.records = AutoResponseRecords(self.site.databases.session_factory("list"))

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        found = kind_of(msgdata)
        if found is None:
            return
        kind, setting, text_setting = found
        action = getattr(mlist, setting)
        if action == "none":
            return
        why = no_reply_reason(mlist, msg, msgdata)
        if why is not None:
            self.log.info("%s: no %s autoresponse (%s)", mlist.list_id, kind, why)
        elif self._claim(mlist, poster_of(msg, msgdata), kind):
            self._answer(mlist, msg, msgdata, kind, getattr(mlist, text_setting))
        if action == "respond_and_discard":
            raise DiscardMessage(f"{setting} is respond_and_discard")

    def _claim(self, mlist: IMailingList, sender: str, kind: str) -> bool:
        """Whether the grace period allows an answer now; records it if so."""
        days = int(parse_duration(mlist.autoresponse_grace_period) // 86400)
        today = utc_now().date()
        # An answer sent on or after `since` is within the grace period.
        since = today + timedelta(days=1) if days <= 0 else today - timedelta(days=days - 1)
        if self.records.claim(mlist.list_id, sender, kind, today, since):
            return True
        self.log.info("%s: %s autoresponse to %s within the grace period; not sent again",
                      mlist.list_id, kind, sender)  # fmt: skip
        return False

    def _answer(
        self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any], kind: str, text: str
    ) -> None:
        poster = poster_of(msg, msgdata)
        values = list_variables(self.site.config, mlist)
        body = Template(text).safe_substitute(values)
        translate = recipient_translator(self.site, mlist, poster)
        subject = translate(
            _('Auto-response for your message to the "$display_name" mailing list'),
            display_name=values["display_name"],
        )
        mid = notice_id(mlist, f"autoresponse-{kind}", msg)  # a redone entry answers once
        notice, data = make_notice(mlist, [poster], subject, body, kind="autoresponse",
                                   message_id=mid, charset=translate.charset)  # fmt: skip
        del notice["Auto-Submitted"]
        notice["Auto-Submitted"] = "auto-replied"
        notice["X-Ack"] = "no"
        original = str(msg.get("message-id") or "").strip()
        if original:
            notice["In-Reply-To"] = original
            notice["References"] = original
        self.context.enqueue("virgin", notice, data)
        self.log.info("%s: %s autoresponse sent to %s", mlist.list_id, kind, poster)
