"""Digest building, mailbox rotation and numbering, in process; the CLI commands."""

from __future__ import annotations

import email
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import Result

from posthorn.delivery.recipients import recipient_chunks
from posthorn.digests import mailbox
from posthorn.digests.build import Issue, build_mime, build_plain
from posthorn.digests.numbering import bump_volume, next_issue, period
from posthorn.digests.send import DigestSender
from posthorn.queues import Switchboard
from posthorn.site import Site

LIST = "dev@example.org"


def post(n: int) -> Message:
    return email.message_from_string(
        f"From: Poster <p@example.com>\nSubject: Post {n}\nMessage-ID: <{n}@x>\n\nBody {n}.\n"
    )


def test_rotation_moves_every_post_once(tmp_path: Path) -> None:
    path = mailbox.digest_mailbox(tmp_path, "dev.example.org")
    for n in range(3):
        mailbox.append(path, mailbox.MboxEntry(post(n)))
    rotated = mailbox.rotate(path, lambda: tmp_path / "pending" / "1.mbox")
    assert rotated is not None and not path.exists()
    assert [str(m["subject"]) for m in mailbox.read_messages(rotated)] == [
        "Post 0", "Post 1", "Post 2",
    ]  # fmt: skip
    assert mailbox.rotate(path, lambda: tmp_path / "never") is None
    mailbox.append(path, mailbox.MboxEntry(post(3)))
    assert [str(m["subject"]) for m in mailbox.read_messages(path)] == ["Post 3"]


def test_an_entry_that_fails_leaves_the_mailbox_as_it_was(tmp_path: Path) -> None:
    path = mailbox.digest_mailbox(tmp_path, "dev.example.org")
    size = mailbox.append(path, mailbox.MboxEntry(post(0)), key="A")
    assert size == path.stat().st_size

    def failing(fp: IO[bytes]) -> None:
        fp.write(b"x" * (mailbox.READ_SLICE + 1))  # some of it on disk already
        raise RuntimeError("no more")

    with pytest.raises(RuntimeError, match="no more"):
        mailbox.append(path, failing, key="B")
    assert path.stat().st_size == size
    raw = b"From posthorn Thu Jan  1 00:00:00 2026\n\nraw\n\n"
    assert mailbox.append(path, raw, key="B") == size + len(raw) == path.stat().st_size
    # Named once it is in: appended again, nothing changes.
    assert mailbox.append(path, raw, key="B") == path.stat().st_size == size + len(raw)
    assert [str(m["subject"]) for m in mailbox.read_messages(path)] == ["Post 0", "None"]


def test_both_formats(site: Site) -> None:
    mlist = site.lists.create(LIST)
    issue = Issue(mlist, 2, 7, [post(1), post(2)])
    mime = build_mime(issue)
    assert mime["subject"] == "Dev Digest, Vol 2, Issue 7"
    digest = mime.get_payload(2)
    assert isinstance(digest, Message) and digest.get_content_type() == "multipart/digest"
    parts: list[Message] = digest.get_payload()  # type: ignore[assignment]
    wrapped = [p.get_payload(0) for p in parts]
    assert [m["subject"] for m in wrapped if isinstance(m, Message)] == ["Post 1", "Post 2"]
    payload = build_plain(issue).get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode()
    assert "    1. Post 1 (Poster)\n    2. Post 2 (Poster)\n" in text
    assert "\n" + "-" * 70 + "\n\nMessage: 1\nFrom: Poster <p@example.com>\n" in text
    assert "Body 1.\n\n" + "-" * 30 + "\n\nMessage: 2\n" in text
    end = "End of Dev Digest, Vol 2, Issue 7"
    assert text.endswith(f"Body 2.\n\n{'-' * 30}\n\n{end}\n{'*' * len(end)}\n")


def test_numbering(site: Site) -> None:
    site.lists.create(LIST)
    sessions = site.databases.session_factory("list")
    engine = site.databases.engine("list")
    march, april = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    assert next_issue(engine, "dev.example.org", "monthly", march) == (1, 1)
    assert next_issue(engine, "dev.example.org", "monthly", march) == (1, 2)
    assert next_issue(engine, "dev.example.org", "monthly", april) == (2, 1)
    assert next_issue(engine, "dev.example.org", "yearly", april) == (2, 2)
    assert bump_volume(sessions, "dev.example.org") == 3
    assert next_issue(engine, "dev.example.org", "yearly", april) == (3, 1)
    assert period("weekly", march) == (2026, 10)


def test_sender_sends_each_member_their_format(site: Site) -> None:
    site.lists.create(LIST)
    site.lists.subscribe(LIST, "m@example.com", delivery_mode="mime_digests")
    site.lists.subscribe(LIST, "p@example.com", delivery_mode="plaintext_digests")
    site.lists.subscribe(LIST, "s@example.com", delivery_mode="summary_digests")
    site.lists.subscribe(LIST, "r@example.com")
    off = site.lists.subscribe(LIST, "off@example.com", delivery_mode="mime_digests")
    site.lists.update_member(off.member_id, delivery_status="by_user")
    mlist = site.lists.require(LIST)
    path = mailbox.digest_mailbox(site.config.path("data_dir"), mlist.list_id)
    mailbox.append(path, mailbox.MboxEntry(post(1)))
    sent: list[tuple[Message, dict[str, Any]]] = []
    sender = DigestSender(site, lambda msg, data: sent.append((msg, data)))
    assert not sender.due(mlist)
    assert sender.run(mlist) == 0
    assert sender.run(mlist, force=True) == 1
    # Each issue names its audience; the outgoing runner reads those members in chunks.
    assert [(d["digest"], _receivers(site, d)) for _, d in sent] == [
        ("mime", ["m@example.com"]),
        ("plain", ["p@example.com", "s@example.com"]),
    ]
    assert sender.run(mlist, force=True) == 0  # nothing gathered: nothing sent


def test_cli_send_and_delivery_mode(invoke: Callable[..., Result], cli_site: Site) -> None:
    cli_site.lists.create(LIST)
    cli_site.lists.subscribe(LIST, "m@example.com")
    assert invoke("delivery", LIST, "m@example.com").output == "m@example.com: regular\n"
    result = invoke("delivery", LIST, "m@example.com", "mime")
    assert result.output == "m@example.com: mime_digests\n"
    assert invoke("delivery", LIST, "x@example.com").exit_code == 1
    path = mailbox.digest_mailbox(cli_site.config.path("data_dir"), "dev.example.org")
    mailbox.append(path, mailbox.MboxEntry(post(1)))
    assert "bytes waiting" in invoke("digests").output
    result = invoke("digests", "--send", "--bump")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "dev@example.org: volume 2 begins",
        "dev@example.org: 1 digest(s) queued",
    ]
    with Switchboard(cli_site.config.path("queue_dir") / "virgin") as virgin:
        (filebase,) = virgin.get_files()
        msg, data = virgin.dequeue(filebase)
    assert msg["subject"] == "Dev Digest, Vol 2, Issue 1"
    assert _receivers(cli_site, data) == ["m@example.com"]


def _receivers(site: Site, data: dict[str, Any]) -> list[str]:
    """Whom the outgoing runner sends a queued digest to, read one member at a time."""
    mlist = site.lists.require(LIST)
    chunks = list(recipient_chunks(site.lists, mlist, data, 1))
    assert all(len(chunk) == 1 for chunk in chunks)
    return sorted(address for chunk in chunks for address in chunk)
