"""Messages Posthorn writes itself (rejections, delivery failures) for queue ``virgin``."""

from __future__ import annotations

from email.message import Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any

from posthorn.interfaces.lists import IMailingList

__all__ = ["make_notice", "poster_of"]


def poster_of(msg: Message, msgdata: dict[str, Any]) -> str:
    """The address that sent ``msg``: From, else Sender, else the envelope sender."""
    for header in ("from", "sender"):
        found = [addr for _, addr in getaddresses([str(v) for v in msg.get_all(header, [])])]
        if found and found[0]:
            return found[0].lower()
    return str(msgdata.get("envelope_sender") or "").lower()


def make_notice(
    mlist: IMailingList,
    recipients: list[str],
    subject: str,
    text: str,
    original: Message | None = None,
) -> tuple[Message, dict[str, Any]]:
    """A notice from the list to ``recipients``, and the msgdata to queue it with."""
    body = MIMEText(text if text.endswith("\n") else text + "\n", "plain", "utf-8")
    msg: Message = body
    if original is not None:
        mixed = MIMEMultipart("mixed")
        mixed.attach(body)
        mixed.attach(MIMEMessage(original))
        msg = mixed
    msg["Subject"] = subject
    msg["From"] = mlist.owner_address
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=mlist.mail_host)
    msg["Auto-Submitted"] = "auto-generated"
    data = {
        "list_id": mlist.list_id,
        "recipients": list(recipients),
        "sender": mlist.bounces_address,
    }
    return msg, data
