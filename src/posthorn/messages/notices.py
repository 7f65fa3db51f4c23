"""Messages Posthorn writes itself (rejections, delivery failures) for queue ``virgin``.

Every notice is marked twice: ``msgdata["notice"]`` (its kind) and the header
``X-Posthorn-Notice``, so the outgoing runner can tell a notice from a post even when
one of the marks was lost (an entry re-queued by hand, a notice re-sent through the
MTA).  ``is_notice`` checks both; the outgoing runner never writes a notice about a
notice, which is what keeps a refused notice from starting a storm of them.  The
``cleanse`` handler removes the header from posts, so a poster cannot forge it.
"""

from __future__ import annotations

import functools
from email.message import Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any

from posthorn.i18n.languages import header_value, text_part
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.messages import message_id_hash

__all__ = ["NOTICE_HEADER", "is_notice", "make_notice", "mark_notice", "notice_id", "poster_of"]

NOTICE_HEADER = "X-Posthorn-Notice"


def notice_id(mlist: IMailingList, kind: str, about: Message) -> str | None:
    """The same Message-ID whenever the notice of ``kind`` about a post is written again.

    A stage redone after a kill writes its notices again; with the same Message-ID the
    outgoing runner's delivery record sends them once.  None if the post has no
    Message-ID (the notice then gets a fresh one).
    """
    post = str(about.get("message-id") or "").strip()
    if not post:
        return None
    return f"<posthorn.{kind}.{message_id_hash(post).lower()}@{mlist.mail_host}>"


def mark_notice(msg: Message, msgdata: dict[str, Any], kind: str = "notice") -> None:
    """Mark ``msg`` as a notice of ``kind`` in its metadata and in a header."""
    msgdata["notice"] = msgdata.get("notice") or kind
    del msg[NOTICE_HEADER]
    msg[NOTICE_HEADER] = str(msgdata["notice"])


def is_notice(msg: Message, msgdata: dict[str, Any]) -> bool:
    """True for a message Posthorn wrote itself, by either mark."""
    return bool(msgdata.get("notice")) or msg.get(NOTICE_HEADER) is not None


def poster_of(msg: Message, msgdata: dict[str, Any]) -> str:
    """The address that sent ``msg``: From, else Sender, else the envelope sender."""
    for header in ("from", "sender"):
        texts = tuple(str(v) for v in msg.get_all(header, []))
        if not texts:
            continue
        # Asked several times per post, mostly about the same few posters.
        short = sum(map(len, texts)) <= _CACHED_TEXT
        found = _cached_first(texts) if short else _first_address(texts)
        if found:
            return found
    return str(msgdata.get("envelope_sender") or "").lower()


# Characters of the longest header texts whose first address is kept, and how many.
_CACHED_TEXT = 512
_CACHED_POSTERS = 4096


def _first_address(texts: tuple[str, ...]) -> str:
    """The first address ``getaddresses`` finds in ``texts``, lowercased ("" if none)."""
    found = [addr for _, addr in getaddresses(list(texts))]
    return found[0].lower() if found and found[0] else ""


_cached_first = functools.lru_cache(maxsize=_CACHED_POSTERS)(_first_address)


def make_notice(
    mlist: IMailingList,
    recipients: list[str],
    subject: str,
    text: str,
    original: Message | None = None,
    *,
    kind: str = "notice",
    message_id: str | None = None,
    charset: str = "utf-8",
) -> tuple[Message, dict[str, Any]]:
    """A notice from the list to ``recipients``, and the msgdata to queue it with.

    ``charset`` is the language's (UTF-8 if the text does not fit it).
    """
    body = text_part(text if text.endswith("\n") else text + "\n", charset)
    msg: Message = body
    if original is not None:
        mixed = MIMEMultipart("mixed")
        mixed.attach(body)
        mixed.attach(MIMEMessage(original))
        msg = mixed
    msg["Subject"] = header_value(subject, charset)
    msg["From"] = mlist.owner_address
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id or make_msgid(domain=mlist.mail_host)
    msg["Auto-Submitted"] = "auto-generated"
    data: dict[str, Any] = {
        "list_id": mlist.list_id,
        "recipients": list(recipients),
        "sender": mlist.bounces_address,
    }
    mark_notice(msg, data, kind)
    return msg, data
