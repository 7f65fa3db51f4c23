"""Building one digest issue in both formats: MIME (RFC 2046) and plain text (RFC 1153).

Both start with the same masthead and table of contents and keep the posts in the
order they were accepted.  The MIME digest is ``multipart/mixed``: the masthead, the
table of contents, then a ``multipart/digest`` holding each post whole as
``message/rfc822``, so readers can open, reply to and save each one.  The plain
digest follows RFC 1153: a 70-dash line after the table of contents, each post with
only the headers that RFC keeps, 30-dash lines between posts, and the closing
"End of ... Digest" line underlined with asterisks, so digest-bursting tools work.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, getaddresses, make_msgid

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

    @property
    def subject(self) -> str:
        name = one_line(self.mlist.display_name)
        return f"{name} Digest, Vol {self.volume}, Issue {self.number}"


def _author(msg: Message) -> str:
    pairs = getaddresses([str(msg.get("from", ""))])
    name, address = pairs[0] if pairs else ("", "")
    return decoded_header(name) or address or "unknown"


def masthead(issue: Issue) -> str:
    mlist = issue.mlist
    return (
        f"Send {mlist.display_name} mailing list submissions to\n"
        f"\t{mlist.posting_address}\n\n"
        f"To subscribe or unsubscribe via email, send a message with subject or\n"
        f"body 'help' to\n\t{mlist.request_address}\n\n"
        f"You can reach the person managing the list at\n\t{mlist.owner_address}\n\n"
        f"When replying, please edit your Subject line so it is more specific\n"
        f'than "Re: Contents of {mlist.display_name} digest..."\n'
    )


def table_of_contents(issue: Issue) -> str:
    lines = ["Today's Topics:", ""]
    for number, post in enumerate(issue.posts, 1):
        subject = decoded_header(post.get("subject", "(no subject)"))
        lines.append(f"   {number:2d}. {subject} ({_author(post)})")
    return "\n".join(lines) + "\n"


def _envelope(msg: Message, issue: Issue) -> None:
    mlist = issue.mlist
    msg["Subject"] = issue.subject
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
    outer.attach(MIMEText(masthead(issue), "plain", "utf-8"))
    outer.attach(MIMEText(table_of_contents(issue), "plain", "utf-8"))
    outer.attach(digest)
    _envelope(outer, issue)
    return outer


def _plain_body(msg: Message) -> str:
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
            texts.append(f"[A {part.get_content_type()} part was removed from this digest]")
    return "\n".join(text.rstrip("\n") for text in texts)


def _plain_post(number: int, post: Message) -> str:
    lines = [f"Message: {number}"]
    for name in RFC1153_HEADERS:
        for value in post.get_all(name, []):
            lines.append(f"{name}: {decoded_header(value)}")
    body = _plain_body(post)
    # A body line that is exactly a separator would split the post when burst.
    body = "\n".join(" " + line if line == POST_SEPARATOR else line for line in body.split("\n"))
    return "\n".join(lines) + "\n\n" + body + "\n"


def build_plain(issue: Issue) -> Message:
    """The RFC 1153 plain-text digest of ``issue``."""
    parts = [masthead(issue), table_of_contents(issue), TOC_SEPARATOR + "\n"]
    posts = [_plain_post(number, post) for number, post in enumerate(issue.posts, 1)]
    parts.append(f"\n{POST_SEPARATOR}\n\n".join(posts))
    end = f"End of {issue.subject}"
    parts.append(f"{POST_SEPARATOR}\n\n{end}\n{'*' * len(end)}\n")
    msg = MIMEText("\n".join(parts), "plain", "utf-8")
    _envelope(msg, issue)
    return msg
