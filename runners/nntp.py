"""The nntp runner: the news gateway, list traffic to a newsgroup and back.

Queue ``nntp`` holds the posts the ``to-usenet`` handler gates to news (lists with
``gateway_to_news`` and a ``linked_newsgroup``); each is posted as an article
(``posthorn.news.article_of``) to the server of ``[nntp]``.  A server that cannot be
reached sends the entry to ``retry``; an article the server refuses (a duplicate
Message-ID, a group it does not carry) is logged and dropped, as resending cannot help.

Besides its queue, instance 0 polls every ``poll_interval``: for each list with
``gateway_to_mail`` it takes the group's articles past the list's watermark into queue
``incoming`` as posts (``fromusenet`` set, so ``to-usenet`` never sends them back),
leaving out the articles the list posted itself (its List-Id).  A list's first poll
only sets the watermark at the group's last article: the gateway carries new traffic,
not the group's history.  The poll is site-wide: it runs under the site lock
``nntp-poll`` (``posthorn.site_lock``), and the watermarks are in the database on
PostgreSQL (``[paths] data_dir`` on SQLite), so with an nntp runner on every host
each article comes in once.
"""

from __future__ import annotations

import email
import time
from email.message import Message
from email.utils import parseaddr
from functools import partial
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.messages.folding import CACHED_COMPAT32
from posthorn.model.news_watermarks import DatabaseWatermarks
from posthorn.news import (
    IWatermarks,
    NNTPError,
    Watermarks,
    article_of,
    connection,
    is_from_list,
    post,
)
from posthorn.runners.aside import run_aside
from posthorn.runners.base import RetryLater, Runner
from posthorn.site import Site
from posthorn.site_lock import SLICE, SiteLocks

__all__ = ["NNTPRunner"]


class NNTPRunner(Runner):
    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        self.poll_interval = self.section.get_float("poll_interval")
        self.locks = SiteLocks.from_site(site)
        files = Watermarks(site.config.path("data_dir") / "nntp")
        self.watermarks: IWatermarks = (
            DatabaseWatermarks(site.databases.session_factory(SLICE), earlier=files.get)
            if self.locks.shared
            else files
        )
        self._next_poll = 0.0

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        if mlist is None or not mlist.linked_newsgroup:
            self.log.info("no newsgroup for %s; dropped", msg.get("message-id"))
            return
        article = article_of(mlist, msg)
        try:
            with connection(self.site.config) as server:
                post(server, article)
        except (OSError, EOFError) as error:
            raise RetryLater(f"news server unreachable: {error}") from None
        except NNTPError as error:
            self.log.warning("%s: %s refused by the news server: %s", mlist.list_id,
                             msg.get("message-id"), error)  # fmt: skip
            return
        self.log.info("%s: %s posted to %s", mlist.list_id, msg.get("message-id"),
                      mlist.linked_newsgroup)  # fmt: skip

    def periodic(self) -> float | None:
        if self.slice != 0:
            return None
        if time.monotonic() >= self._next_poll:
            poll = partial(self.locks.run_due, "nntp-poll", self.poll_interval, self.poll, self.log)
            wait = run_aside(self.site, poll)
            self._next_poll = time.monotonic() + wait
        return max(0.0, self._next_poll - time.monotonic())

    def poll(self) -> None:
        """Take new articles into every list gated from news."""
        try:
            gated = [m for m in self.site.lists.lists() if m.gateway_to_mail and m.linked_newsgroup]
        except Exception:
            # Runs outside any entry: a database away for a while costs one poll.
            self.log.exception("news poll failed: cannot list the lists")
            return
        for mlist in gated:
            try:
                self._pull(mlist)
            except NNTPError as error:
                self.log.warning("%s: cannot read %s: %s", mlist.list_id,
                                 mlist.linked_newsgroup, error)  # fmt: skip

    def _pull(self, mlist: IMailingList) -> None:
        with connection(self.site.config) as server:
            _, _, first, last, _ = server.group(mlist.linked_newsgroup)
            mark = self.watermarks.get(mlist)
            if mark is None or mark > last:
                # First poll (or a renumbered group): start from now.
                self.watermarks.set(mlist, last)
                return
            for number in range(max(mark + 1, first), last + 1):
                try:
                    _, info = server.article(number)
                except NNTPError as error:
                    if not str(error).startswith("423"):  # no such article: expired
                        raise
                else:
                    self._take(mlist, b"\r\n".join(info.lines) + b"\r\n")
                self.watermarks.set(mlist, number)

    def _take(self, mlist: IMailingList, data: bytes) -> None:
        article = email.message_from_bytes(data, policy=CACHED_COMPAT32)
        if is_from_list(article, mlist):
            return
        self.enqueue("incoming", data, {
            "list_id": mlist.list_id,
            "fromusenet": True,
            "to_list": True,
            "original_recipient": mlist.posting_address,
            "envelope_sender": parseaddr(str(article.get("from", "")))[1],
            "original_size": len(data),
            "received_time": time.time(),
        })  # fmt: skip
        self.log.info("%s: took in %s from %s", mlist.list_id, article.get("message-id"),
                      mlist.linked_newsgroup)  # fmt: skip
