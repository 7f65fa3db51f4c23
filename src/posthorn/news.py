"""The news gateway's pieces: the NNTP connection, articles from posts, and watermarks.

A list gated to a newsgroup (``linked_newsgroup``) posts its traffic there when
``gateway_to_news`` is on, and takes the group's new articles in as posts when
``gateway_to_mail`` is on; the ``nntp`` runner does both (``runners/nntp.py``).

News servers refuse articles carrying the trace fields they add themselves (Path,
Xref, NNTP-Posting-Host, Injection-Info, ...) or more than one of a field that must be
single; ``article_of`` removes those, renames the mail-only recipient fields (To, Cc)
to ``X-Original-*``, and sets Newsgroups.  The list's List-Id stays on the article,
which is how the pull tells the list's own articles from the group's.

The watermark of a list is the number of the last article of its group taken in: one
small file per list under ``data_dir/nntp`` on SQLite, a row of the database on
PostgreSQL (``model.news_watermarks``), where the next poll finds it whichever host
runs it.  It is written after the article is queued, so a crash in between brings an
article in twice rather than never.
"""

from __future__ import annotations

import copy
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from email.utils import formatdate, make_msgid
from io import BytesIO
from pathlib import Path
from typing import Protocol

from posthorn.config import Config
from posthorn.interfaces.lists import IMailingList
from posthorn.queues.flatten import message_to_bytes

with warnings.catch_warnings():
    # Python 3.11 and 3.12 warn that nntplib leaves the standard library in 3.13;
    # from 3.13 the same module comes from the standard-nntplib distribution.
    warnings.simplefilter("ignore", DeprecationWarning)
    import nntplib

__all__ = [
    "IWatermarks",
    "NNTPError",
    "Watermarks",
    "article_of",
    "connection",
    "is_from_list",
]

NNTPError = (nntplib.NNTPError, OSError, EOFError)

# Fields a news server adds itself and refuses (or rewrites) in an article it is given.
REMOVED = (
    "path", "xref", "nntp-posting-host", "nntp-posting-date", "injection-info",
    "injection-date", "x-trace", "x-complaints-to", "date-received", "posted",
    "posting-version", "relay-version", "received", "return-path", "lines",
    "newsgroups", "approved", "followup-to", "distribution", "control", "supersedes",
)  # fmt: skip
# Mail recipients mean nothing on Usenet; kept under another name for the record.
RENAMED = ("to", "cc")
# Fields an article may carry once only.
SINGLE = ("from", "subject", "date", "message-id", "references", "sender", "reply-to")


@contextmanager
def connection(config: Config) -> Iterator[nntplib.NNTP]:
    """A reader connection to ``[nntp] host``, logged in when ``user`` is set."""
    section = config["nntp"]
    user = section.get_str("user") or None
    password = (section.get_str("password") or None) if user else None
    server = nntplib.NNTP(
        section.get_str("host"),
        section.get_int("port"),
        user=user,
        password=password,
        readermode=True,
        timeout=section.get_float("timeout"),
    )
    try:
        yield server
    finally:
        try:
            server.quit()
        except NNTPError:
            server.sock.close()


def _strip_prefix(subject: str, prefix: str) -> str:
    prefix = prefix.strip()
    if prefix and subject.strip().startswith(prefix):
        return subject.strip()[len(prefix) :].strip()
    return subject


def article_of(mlist: IMailingList, msg: Message) -> bytes:
    """The post as an article for ``mlist.linked_newsgroup``, ready for POST."""
    article = copy.deepcopy(msg)
    for name in REMOVED:
        del article[name]
    for name in RENAMED:
        values = article.get_all(name, [])
        del article[name]
        for value in values:
            article[f"X-Original-{name.capitalize()}"] = value
    for name in SINGLE:
        values = article.get_all(name, [])
        if len(values) > 1:
            del article[name]
            article[name.title()] = values[0]
    article["Newsgroups"] = mlist.linked_newsgroup
    if mlist.newsgroup_moderation != "none":
        # The list moderated the post already; the group must take it as approved.
        article["Approved"] = mlist.posting_address
    if not mlist.nntp_prefix_subject_too and article["subject"] is not None:
        subject = _strip_prefix(str(article["subject"]), mlist.subject_prefix)
        article.replace_header("subject", subject)
    if article["message-id"] is None:
        article["Message-ID"] = make_msgid(domain=mlist.mail_host)
    if article["date"] is None:
        article["Date"] = formatdate(localtime=False)
    if article["from"] is None:
        article["From"] = mlist.posting_address
    return message_to_bytes(article)


def post(server: nntplib.NNTP, article: bytes) -> str:
    """POST the article; the server's reply (an NNTPError when it refuses)."""
    return server.post(BytesIO(article))


def is_from_list(article: Message, mlist: IMailingList) -> bool:
    """Whether the article is one the list itself posted (so no echo back to it)."""
    found = re.search(r"<([^>]*)>", str(article.get("list-id", "")))
    return found is not None and found.group(1).strip().lower() == mlist.list_id.lower()


class IWatermarks(Protocol):
    """The number of the last article taken in, per list and group."""

    def get(self, mlist: IMailingList) -> int | None: ...

    def set(self, mlist: IMailingList, number: int) -> None: ...


class Watermarks:
    """Watermarks as one small file per list (``IWatermarks``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, mlist: IMailingList) -> Path:
        return self.directory / f"{mlist.list_id}.{mlist.linked_newsgroup}"

    def get(self, mlist: IMailingList) -> int | None:
        try:
            return int(self._path(mlist).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def set(self, mlist: IMailingList, number: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(mlist)
        temp = path.with_name(path.name + ".tmp")
        with open(temp, "w") as fp:
            fp.write(f"{number}\n")
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(temp, path)
