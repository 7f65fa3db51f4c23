"""hold: the post waits in the message store for a moderator.

The held record keeps the post, the reasons and the metadata (so accepting it later
resumes where it stopped).  The list's owners and moderators get a notice (when
``admin_immed_notify`` is on); the poster gets one too when the list's
``respond_to_post_requests`` is on and the poster can be identified.  Both texts are
the templates ``held`` and ``held-poster`` (``posthorn.templates``), the first in the
list's language, the second in the poster's.  A redone hold
(the runner killed before finishing the entry) finds the post's request and writes the
notices again with the same Message-IDs, which the outgoing runner sends only once.
"""

from __future__ import annotations

from email.message import Message
from typing import TYPE_CHECKING, Any

from posthorn.chains import Chain
from posthorn.i18n import _, list_translator, recipient_translator
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.rules import ChainContext
from posthorn.messages.notices import notice_id
from posthorn.moderation import make_notice
from posthorn.remote_templates import RemoteTemplates
from posthorn.rules import reasons_in
from posthorn.sender import sender_address
from posthorn.templates import render

if TYPE_CHECKING:
    from posthorn.site import Site


class HoldChain(Chain):
    name = "hold"
    description = "Keep the post for a moderator and tell the moderators."

    def __init__(self, site: Site) -> None:
        super().__init__(site)
        # The front end's texts for the two notices, if it stored their URIs.
        self.remote = RemoteTemplates.from_site(site)

    def process(
        self, context: ChainContext, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
    ) -> None:
        if not msgdata.get("moderation_reasons"):
            msgdata["moderation_reasons"] = [_("The message was held")]
            msgdata["reason_texts"] = [[_("The message was held"), {}]]
        reasons = list(msgdata["moderation_reasons"])
        poster = sender_address(msg)
        shown_sender = poster or str(msg.get("from") or msgdata.get("envelope_sender") or "")
        subject = str(msg.get("subject") or "(no subject)")
        data = {k: v for k, v in msgdata.items() if k != "moderation_action"}
        request_id = context.site.messages.hold(
            mlist.list_id, msg, "; ".join(reasons), shown_sender, subject, data
        )
        context.log.info("%s: held %s as request %d", mlist.list_id, subject, request_id)
        self._notify_moderators(context, mlist, msg, request_id, shown_sender, subject, msgdata)
        if poster and mlist.respond_to_post_requests:
            translate = recipient_translator(context.site, mlist, poster)
            subject_line, text = render(
                context.site.config, "held-poster", mlist, subject=subject,
                reasons="; ".join(reasons_in(msgdata, translate)), remote=self.remote,
                language=translate.language,
            )  # fmt: skip
            notice, ndata = make_notice(
                mlist, [poster], subject_line, text, kind="held-poster",
                message_id=notice_id(mlist, "held-poster", msg), charset=translate.charset,
            )  # fmt: skip
            context.enqueue("virgin", notice, ndata)

    def _notify_moderators(
        self,
        context: ChainContext,
        mlist: IMailingList,
        msg: Message,
        request_id: int,
        sender: str,
        subject: str,
        msgdata: dict[str, Any],
    ) -> None:
        if not mlist.admin_immed_notify:
            return
        roster = context.site.lists.roster(mlist)
        admins = sorted({member.email for member in roster.administrators})
        if not admins:
            context.log.warning(
                "%s: request %d held, but nobody moderates", mlist.list_id, request_id
            )
            return
        translate = list_translator(context.site.config, mlist)
        title, text = render(
            context.site.config, "held", mlist, request_id=request_id, sender=sender,
            subject=subject, reasons="; ".join(reasons_in(msgdata, translate)),
            remote=self.remote,
        )  # fmt: skip
        notice, data = make_notice(
            mlist, admins, title, text, kind="held",
            message_id=notice_id(mlist, "held", msg), charset=translate.charset,
        )  # fmt: skip
        data["held_request_id"] = request_id
        context.enqueue("virgin", notice, data)
