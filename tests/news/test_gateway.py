"""The news gateway end to end: a real master, a real INN on loopback, an SMTP sink.

The master runs lmtp, incoming, pipeline, outgoing and nntp (polling every 300 ms); the
list is gated both ways to ``local.test`` on a private INN (``tests.newsserver``).  A
post over LMTP must reach the group once, as a clean article, and the members once; an
article posted to the group must reach the members once and never come back to the
group.  Each waits a few polls past the first arrival to see that nothing echoes.
"""

from __future__ import annotations

import email
import smtplib
import subprocess
import time
import warnings
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest

from posthorn.site import Site
from tests.newsserver import NewsServer
from tests.sites import master_with_sink
from tests.smtpsink import SMTPSink
from tests.waiting import queues_idle, wait_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import nntplib

pytestmark = pytest.mark.slow

LIST = "dev@example.org"
GROUP = "local.test"
MEMBERS = ["ann@example.com", "bob@example.net"]
RUNNING = ("lmtp", "incoming", "pipeline", "outgoing", "nntp")
POLL = 0.3


def arrange(site: Site) -> None:
    site.lists.create(LIST, owners=["owner@example.org"])
    site.lists.update(LIST, gateway_to_news=True, gateway_to_mail=True, linked_newsgroup=GROUP,
                      default_nonmember_action="accept", subject_prefix="[Dev] ",
                      nntp_prefix_subject_too=False)  # fmt: skip
    for address in MEMBERS:
        site.lists.subscribe(LIST, address)


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[int, int, SMTPSink, Path]]:
    tmp = tmp_path_factory.mktemp("news")
    with NewsServer([GROUP]) as news:
        extra = {
            "nntp": {"host": "127.0.0.1", "port": news.port, "timeout": "5s"},
            "runner.nntp": {"poll_interval": f"{int(POLL * 1000)}ms"},
        }
        with master_with_sink(tmp, running=RUNNING, arrange=arrange, extra_sections=extra,
                              output=subprocess.DEVNULL) as (_, lmtp_port, sink):  # fmt: skip
            # The first poll only sets the watermark; articles after it are new.
            wait_for(watermark(tmp / "var").exists, "the first poll of the group")
            yield news.port, lmtp_port, sink, tmp / "var"


def watermark(var_dir: Path) -> Path:
    return var_dir / "data" / "nntp" / f"dev.example.org.{GROUP}"


def reader(port: int) -> nntplib.NNTP:
    return nntplib.NNTP("127.0.0.1", port, readermode=True, timeout=10)


def articles_with(port: int, message_id: str) -> list[bytes]:
    """Every article of the group carrying ``message_id`` (one, unless something echoed)."""
    server = reader(port)
    try:
        _, count, first, last, _ = server.group(GROUP)
        found = []
        for number in range(first, last + 1) if count else ():
            try:
                _, info = server.article(number)
            except nntplib.NNTPTemporaryError:
                continue
            data = b"\r\n".join(info.lines)
            if message_id.encode() in data.split(b"\r\n\r\n")[0]:
                found.append(data)
        return found
    finally:
        server.quit()


def mail_copies(sink: SMTPSink, subject: str) -> list[str]:
    """The recipients of every copy whose Subject contains ``subject``."""
    with sink.lock:
        received = list(sink.received)
    found = []
    for _, rcpts, data in received:
        if subject in str(email.message_from_bytes(data)["subject"]):
            found += rcpts
    return found


def settle(news_port: int, var_dir: Path) -> None:
    """Wait until the gateway has polled past the group's last article and every queue is
    empty: an echo, were there one, would have been taken in and delivered by then."""
    server = reader(news_port)
    try:
        last = server.group(GROUP)[3]
    finally:
        server.quit()

    def polled() -> bool:
        try:
            return int(watermark(var_dir).read_text().strip()) >= last
        except (OSError, ValueError):
            return False

    wait_for(polled, f"the gateway's poll past article {last}")
    queues = [name for name in RUNNING if name != "lmtp"]
    wait_for(lambda: queues_idle(var_dir / "queue", queues), "the runners idle")


def test_a_post_reaches_the_group_once_as_a_clean_article(
    gateway: tuple[int, int, SMTPSink, Path],
) -> None:
    news_port, lmtp_port, sink, var_dir = gateway
    message_id = f"<to-news.{time.time_ns()}@example.com>"
    post = (
        f"From: carl@example.com\r\nTo: {LIST}\r\nCc: other@example.com\r\n"
        f"Subject: mail to news\r\nMessage-ID: {message_id}\r\n"
        "NNTP-Posting-Host: forged.example\r\nXref: forged local.test:99\r\n"
        "Received: from somewhere\r\n\r\nHello, group.\r\n"
    ).encode()
    with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
        lmtp.sendmail("carl@example.com", [LIST], post)
    found = wait_for(lambda: articles_with(news_port, message_id), "the article in the group")
    article = email.message_from_bytes(found[0])
    assert article["Newsgroups"] == GROUP
    assert article["Subject"] == "mail to news"  # nntp_prefix_subject_too: no
    assert article["To"] is None and article["X-Original-To"] == LIST
    assert article["X-Original-Cc"] == "other@example.com"
    assert "forged" not in str(article["NNTP-Posting-Host"]) + str(article["Xref"])
    assert article["List-Id"] and "dev.example.org" in article["List-Id"]
    wait_for(lambda: len(mail_copies(sink, "mail to news")) >= 2, "the members' copies")
    settle(news_port, var_dir)
    assert len(articles_with(news_port, message_id)) == 1
    assert sorted(mail_copies(sink, "mail to news")) == MEMBERS


def test_an_article_reaches_the_members_once_and_never_returns(
    gateway: tuple[int, int, SMTPSink, Path],
) -> None:
    news_port, _, sink, var_dir = gateway
    message_id = f"<from-news.{time.time_ns()}@news.example.test>"
    article = (
        f"From: reader@example.com\r\nNewsgroups: {GROUP}\r\nSubject: news to mail\r\n"
        f"Message-ID: {message_id}\r\n\r\nHello, list.\r\n"
    ).encode()
    server = reader(news_port)
    try:
        server.post(BytesIO(article))
    finally:
        server.quit()
    wait_for(lambda: len(mail_copies(sink, "news to mail")) >= 2, "the members' copies")
    settle(news_port, var_dir)
    assert sorted(mail_copies(sink, "news to mail")) == MEMBERS
    assert len(articles_with(news_port, message_id)) == 1
    got = [email.message_from_bytes(d) for _, _, d in sink.received]
    copy = next(m for m in got if "news to mail" in str(m["subject"]))
    assert str(copy["subject"]).startswith("[Dev] news to mail")
    assert copy.get_payload(decode=True).decode().startswith("Hello, list.")


def test_the_watermark_is_a_number(tmp_path: Path) -> None:
    from posthorn.news import Watermarks

    class Gated:
        list_id = "dev.example.org"
        linked_newsgroup = GROUP

    marks = Watermarks(tmp_path)
    assert marks.get(Gated()) is None  # type: ignore[arg-type]
    marks.set(Gated(), 7)  # type: ignore[arg-type]
    assert marks.get(Gated()) == 7  # type: ignore[arg-type]
