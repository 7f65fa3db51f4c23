"""Building one digest issue in both formats: MIME (RFC 2046) and plain text (RFC 1153).

Both start with the same masthead and table of contents and keep the posts in the
order they were accepted.  The MIME digest is ``multipart/mixed``: the masthead, the
table of contents, then a ``multipart/digest`` holding each post whole as
``message/rfc822``, so readers can open, reply to and save each one.  The plain
digest follows RFC 1153: a 70-dash line after the table of contents, each post with
only the headers that RFC keeps, 30-dash lines between posts, and the closing
"End of ... Digest" line underlined with asterisks, so digest-bursting tools work.
The masthead and the digest's own lines are in the list's preferred language, encoded
in that language's charset; the posts are left as they came.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.utils import formatdate, getaddresses, make_msgid

from posthorn.i18n import Translator, _, header_value, text_part
from posthorn.interfaces.lists import IMailingList
from posthorn.messages.oneline import decoded_header, one_line

__all__ = ["Issue", "build_mime", "build_plain", "table_of_contents"]

RFC1153_HEADERS = ("Date", "From", "To", "Cc", "Subject", "Message-ID", "Keywords", "Summary")
TOC_SEPARATOR = "-" * 70
POST_SEPARATOR = "-" * 30


@dataclass(frozen=True)
class Issue:
    """One digest: its list, numbers and posts."""

    mlist: IMailingList
    volume: int
    number: int
    posts: list[Message]
    translate: Translator = field(default_factory=lambda: Translator("en"))

    @property
    def subject(self) -> str:
        name = one_line(self.mlist.display_name)
        return self.translate(
            _("$display_name Digest, Vol $volume, Issue $number"),
            display_name=name, volume=self.volume, number=self.number,
        )  # fmt: skip


def _author(msg: Message, issue: Issue) -> str:
    pairs = getaddresses([str(msg.get("from", ""))])
    name, address = pairs[0] if pairs else ("", "")
    return decoded_header(name) or address or issue.translate(_("unknown"))


_MASTHEAD = _("""\
Send $display_name mailing list submissions to
\t$posting_address

To subscribe or unsubscribe via email, send a message with subject or
body 'help' to
\t$request_address

You can reach the person managing the list at
\t$owner_address

When replying, please edit your Subject line so it is more specific
than "Re: Contents of $display_name digest..."
""")


def masthead(issue: Issue) -> str:
    mlist = issue.mlist
    return issue.translate(
        _MASTHEAD, display_name=mlist.display_name, posting_address=mlist.posting_address,
        request_address=mlist.request_address, owner_address=mlist.owner_address,
    )  # fmt: skip


def table_of_contents(issue: Issue) -> str:
    lines = [issue.translate(_("Today's Topics:")), ""]
    for number, post in enumerate(issue.posts, 1):
        subject = decoded_header(post.get("subject") or issue.translate(_("(no subject)")))
        lines.append(f"   {number:2d}. {subject} ({_author(post, issue)})")
    return "\n".join(lines) + "\n"


def _envelope(msg: Message, issue: Issue) -> None:
    mlist = issue.mlist
    msg["Subject"] = header_value(issue.subject, issue.translate.charset)
    msg["From"] = mlist.request_address
    msg["To"] = mlist.posting_address
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=mlist.mail_host)
    msg["Reply-To"] = mlist.posting_address
    msg["X-Posthorn-Digest"] = f"{issue.volume}/{issue.number}"


def build_mime(issue: Issue) -> Message:
    """The MIME digest of ``issue``."""
    digest = MIMEMultipart("digest")
    for post in issue.posts:
        digest.attach(MIMEMessage(post))
    outer = MIMEMultipart("mixed")
    outer.attach(text_part(masthead(issue), issue.translate.charset))
    outer.attach(text_part(table_of_contents(issue), issue.translate.charset))
    outer.attach(digest)
    _envelope(outer, issue)
    return outer


def _plain_body(msg: Message, issue: Issue) -> str:
    """The text of a post; parts that are not text are named, not included."""
    texts: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "us-ascii"
                try:
                    texts.append(payload.decode(charset, "replace"))
                except LookupError:
                    texts.append(payload.decode("utf-8", "replace"))
        else:
            texts.append(issue.translate(_("[A $type part was removed from this digest]"),
                                         type=part.get_content_type()))  # fmt: skip
    return "\n".join(text.rstrip("\n") for text in texts)


def _plain_post(number: int, post: Message, issue: Issue) -> str:
    # The header names stay English: RFC 1153 and the tools that burst digests need them.
    lines = [f"Message: {number}"]
    for name in RFC1153_HEADERS:
        for value in post.get_all(name, []):
            lines.append(f"{name}: {decoded_header(value)}")
    body = _plain_body(post, issue)
    # A body line that is exactly a separator would split the post when burst.
    body = "\n".join(" " + line if line == POST_SEPARATOR else line for line in body.split("\n"))
    return "\n".join(lines) + "\n\n" + body + "\n"


def build_plain(issue: Issue) -> Message:
    """The RFC 1153 plain-text digest of ``issue``."""
    parts = [masthead(issue), table_of_contents(issue), TOC_SEPARATOR + "\n"]
    posts = [_plain_post(number, post, issue) for number, post in enumerate(issue.posts, 1)]
    parts.append(f"\n{POST_SEPARATOR}\n\n".join(posts))
    end = issue.translate(_("End of $subject"), subject=issue.subject)
    parts.append(f"{POST_SEPARATOR}\n\n{end}\n{'*' * len(end)}\n")
    msg = text_part("\n".join(parts), issue.translate.charset)
    _envelope(msg, issue)
    return msg
