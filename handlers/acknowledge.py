"""Tell a member who asked for it (``acknowledge_posts``) that their post went out.

The poster is the From address (else Sender, else the envelope sender); only members
of the list are acknowledged, and never for a notice the list wrote itself
(``msgdata["virgin"]``).  The notice goes through queue ``virgin``.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.delivery.preferences import poster_preferences
from posthorn.handlers.base import Handler
from posthorn.handlers.subject_prefix import decoded_subject
from posthorn.i18n import _, recipient_translator
from posthorn.interfaces.lists import IMailingList
from posthorn.messages.notices import make_notice, notice_id

__all__ = ["Acknowledge"]


_ACKNOWLEDGEMENT = _("""\
Your message entitled

    $subject

was successfully received by the $display_name mailing list ($posting_address).
""")


class Acknowledge(Handler):
    name = "acknowledge"
    description = "Send posters who asked for it a notice that their post was sent."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if msgdata.get("virgin"):
            return
        poster, preferences = poster_preferences(self.site, mlist, msg, msgdata)
        if preferences is None or not preferences["acknowledge_posts"]:
            return
        subject = str(msgdata.get("original_subject") or decoded_subject(msg))
        translate = recipient_translator(self.site, mlist, poster)
        names = {"display_name": mlist.display_name, "posting_address": mlist.posting_address}
        text = translate(_ACKNOWLEDGEMENT, subject=subject, **names)
        title = translate(_("$display_name post acknowledgement"), **names)
        mid = notice_id(mlist, "acknowledge", msg)  # a redone pipeline acknowledges once
        notice, data = make_notice(mlist, [poster], title, text, message_id=mid,
                                   charset=translate.charset)  # fmt: skip
        self.context.enqueue("virgin", notice, data)
