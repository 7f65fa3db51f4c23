"""Filter a post's content by MIME type and file name, as the list's settings ask.

Honours ``filter_content`` (off: nothing happens), ``filter_types`` and ``pass_types``
(``maintype`` or ``maintype/subtype``), ``filter_extensions`` and ``pass_extensions``
(of an attachment's file name), ``collapse_alternatives`` (a multipart/alternative
becomes its first text/plain part, else its first part) and
``convert_html_to_plaintext`` (text/html becomes text/plain).  A multipart left with
one part is replaced by that part, so readers never see a needless wrapper.  When
nothing is left, ``filter_action`` applies, to the post as it arrived (before
filtering), as GNU Mailman does:

- ``reject`` tells the poster why;
- ``hold`` keeps the post for a moderator: the handler raises ``HoldMessage`` with the
  post as it arrived, and the pipeline runner holds it; a post a moderator then accepts
  (``msgdata["moderator_approved"]``) is not filtered again, so it goes out as held;
- ``forward`` sends the post to the list's owners as an attachment of a notice, then
  drops it;
- ``preserve`` keeps a copy in ``$data_dir/preserved/`` (one private file per post,
  named like a queue entry), then drops it;
- ``discard`` (and ``accept`` and ``defer``, which mean nothing here) drops it with
  a log line.

Reads ``moderator_approved`` from msgdata; adds ``X-Content-Filtered-By`` when it
changed the message.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from email.message import Message
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.i18n import _, list_translator
from posthorn.interfaces.handlers import DiscardMessage, HoldMessage, RejectMessage
from posthorn.interfaces.lists import IMailingList
from posthorn.messages.html2text import html_to_text
from posthorn.messages.notices import make_notice
from posthorn.queues.files import ensure_private_dir, write_durable
from posthorn.queues.naming import make_filebase

__all__ = ["MimeDelete", "filter_message"]

# The actions that need the post as it arrived once filtering has emptied it.
KEEPS_ORIGINAL = ("hold", "forward", "preserve")
PRESERVED_DIR = "preserved"
FORWARD_SUBJECT = _("Content filter message notification")
FORWARD_TEXT = _(
    "The attached message matched the $list mailing list's content filtering rules\n"
    "and was prevented from being forwarded on to the list membership.  You are\n"
    "receiving the only remaining copy of the discarded message.\n"
)
HOLD_REASON = _("The message has no content left after content filtering")


def _matches(ctype: str, patterns: Sequence[str]) -> bool:
    maintype = ctype.split("/", 1)[0]
    wanted = {p.strip().lower() for p in patterns if p.strip()}
    return ctype in wanted or maintype in wanted


def _extension(part: Message) -> str:
    filename = part.get_filename() or ""
    return filename.rpartition(".")[2].lower() if "." in filename else ""


def _unwanted(mlist: IMailingList, part: Message) -> bool:
    """A leaf (or container) the list's type and extension lists leave out."""
    ctype = part.get_content_type()
    if _matches(ctype, mlist.filter_types):
        return True
    if mlist.pass_types and not part.is_multipart() and not _matches(ctype, mlist.pass_types):
        return True
    ext = _extension(part)
    filter_ext = {e.strip().lstrip(".").lower() for e in mlist.filter_extensions}
    pass_ext = {e.strip().lstrip(".").lower() for e in mlist.pass_extensions}
    if ext and ext in filter_ext:
        return True
    return bool(ext and pass_ext and ext not in pass_ext)


def _to_plain(part: Message) -> None:
    """Replace an HTML leaf's content with its text, in UTF-8."""
    raw = part.get_payload(decode=True)
    charset = part.get_content_charset() or "utf-8"
    html = raw.decode(charset, "replace") if isinstance(raw, bytes) else ""
    del part["content-transfer-encoding"]
    part.set_type("text/plain")
    part.set_payload(html_to_text(html), "utf-8")
    part.del_param("format")


def _adopt(msg: Message, child: Message) -> None:
    """Make ``msg`` carry ``child``'s content (and content headers) in place."""
    for name in {key.lower() for key in msg if key.lower().startswith("content-")}:
        del msg[name]
    for name, value in child.items():
        if name.lower().startswith("content-"):
            msg[name] = value
    msg.set_payload(child.get_payload())
    msg.preamble = msg.epilogue = None


def _filter(mlist: IMailingList, part: Message) -> bool:
    """Filter ``part`` in place; False when nothing of it is left."""
    if _unwanted(mlist, part):
        return False
    if not part.is_multipart():
        if mlist.convert_html_to_plaintext and part.get_content_type() == "text/html":
            _to_plain(part)
        return True
    children = [child for child in part.get_payload() if isinstance(child, Message)]
    if part.get_content_type() == "multipart/alternative" and mlist.collapse_alternatives:
        plain = [c for c in children if c.get_content_type() == "text/plain"]
        children = (plain or children)[:1]
    kept = [child for child in children if _filter(mlist, child)]
    if not kept:
        return False
    if len(kept) == 1:
        _adopt(part, kept[0])
    else:
        part.set_payload(list[Message | str](kept))
    return True


def filter_message(mlist: IMailingList, msg: Message) -> bool:
    """Filter ``msg`` in place as the list asks; False when nothing is left of it."""
    if not _filter(mlist, msg):
        return False
    return msg.is_multipart() or bool(msg.get_payload(decode=True))


def _shape(msg: Message) -> list[tuple[str, str | None]]:
    """What filtering can change: the parts' types and file names, in order."""
    return [(part.get_content_type(), part.get_filename()) for part in msg.walk()]


class MimeDelete(Handler):
    name = "mime-delete"
    description = "Filter the post's MIME parts by type and file name, as the list asks."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if not mlist.filter_content:
            return
        if mlist.filter_action == "hold" and msgdata.get("moderator_approved"):
            # A moderator accepted the post as it was held, unfiltered.
            return
        # Copying costs a little, so only for the actions that need the original.
        original = copy.deepcopy(msg) if mlist.filter_action in KEEPS_ORIGINAL else None
        before = _shape(msg)
        if not filter_message(mlist, msg):
            self._nothing_left(mlist, original or msg, msgdata)
        if _shape(msg) != before:
            msg["X-Content-Filtered-By"] = "Posthorn"

    def _nothing_left(
        self, mlist: IMailingList, original: Message, msgdata: dict[str, Any]
    ) -> None:
        action = mlist.filter_action
        if action == "reject":
            raise RejectMessage(
                _(
                    "Your message to $list had no content the list "
                    "accepts once its filters removed the parts it does not take."
                ),
                list=mlist.fqdn_listname,
            )
        if action == "hold":
            raise HoldMessage(HOLD_REASON, original)
        if action == "forward":
            self._forward(mlist, original)
        elif action == "preserve":
            self._preserve(mlist, original)
        raise DiscardMessage(f"no content left after MIME filtering ({action})")

    def _forward(self, mlist: IMailingList, original: Message) -> None:
        owners = sorted({member.email for member in self.site.lists.roster(mlist).owners})
        if not owners:
            self.log.warning("%s: no owners to forward a filtered post to", mlist.list_id)
            return
        translate = list_translator(self.site.config, mlist)
        text = translate(FORWARD_TEXT, list=mlist.display_name or mlist.fqdn_listname)
        notice, data = make_notice(mlist, owners, translate(FORWARD_SUBJECT), text, original,
                                   charset=translate.charset)  # fmt: skip
        self.context.enqueue("virgin", notice, data)
        self.log.info(
            "%s: forwarded filtered post %s to the owners",
            mlist.list_id,
            original.get("message-id", "?"),
        )

    def _preserve(self, mlist: IMailingList, original: Message) -> None:
        directory = self.site.config.path("data_dir") / PRESERVED_DIR
        ensure_private_dir(directory)
        data = original.as_bytes()
        name = make_filebase(data, time.time_ns()) + ".eml"
        write_durable(directory, name, data)
        self.log.info(
            "%s: preserved filtered post %s as %s",
            mlist.list_id,
            original.get("message-id", "?"),
            directory / name,
        )
