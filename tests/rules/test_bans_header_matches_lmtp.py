"""Bans and header matches enforced on posts that arrive over real LMTP.

A master runs the lmtp and incoming runners only, so an accepted post waits on the
pipeline queue and a rejection notice on the virgin queue, where the test reads them.
Each post that should leave no trace is followed by an accepted sentinel: the incoming
runner takes entries in arrival order, so once the sentinel is through, so is it.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from posthorn.model.bans import DatabaseBanManager
from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.queues import Switchboard
from tests.processes import free_port
from tests.sites import open_site, prepared_site, running_master, write_site_config
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

LIST = "dev@rules.example.org"
LIST_ID = "dev.rules.example.org"
MEMBER, BANNED, TRUSTED = "anne@example.org", "banned@example.org", "trusted@example.org"
DEADLINE = 15.0


class Running:
    def __init__(self, site_file: Path, port: int) -> None:
        self.site_file = site_file
        self.port = port
        self.queues = site_file.parent / "var" / "queue"
        self.sent = 0

    def post(self, sender: str, subject: str, extra: str = "") -> None:
        self.sent += 1
        text = f"From: {sender}\nTo: {LIST}\nSubject: {subject}\n{extra}"
        text += f"Message-ID: <post{self.sent}@example.org>\n\nHello.\n"
        with smtplib.LMTP("127.0.0.1", self.port, timeout=10) as lmtp:
            lmtp.sendmail(sender, [LIST], text.encode())

    def take(self, queue: str) -> list[str]:
        """The subjects waiting on a queue, which is emptied."""
        board = Switchboard(self.queues / queue)
        subjects = []
        for filebase in board.get_files():
            msg, _ = board.dequeue(filebase)
            board.finish(filebase)
            subjects.append(str(msg["Subject"]))
        return subjects

    def accepted_after(self, subject: str) -> list[str]:
        """Post an accepted sentinel; every subject accepted up to it (the sentinel last)."""
        sentinel = f"sentinel {self.sent + 1}"
        self.post(MEMBER, sentinel)
        seen: list[str] = []

        def through() -> bool:
            seen.extend(self.take("pipeline"))
            return sentinel in seen

        wait_for(through, f"the sentinel after {subject!r}", DEADLINE)
        return seen

    def held(self) -> list[str]:
        with open_site(self.site_file) as site:
            return [h.subject for h in site.messages.held_for_list(LIST_ID)]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("rules")
    port = free_port()
    path = write_site_config(tmp, lmtp_port=port, running=("lmtp", "incoming"))
    with prepared_site(path) as site:
        mlist = site.lists.create(LIST)
        for email in (MEMBER, BANNED, TRUSTED):
            site.lists.subscribe(mlist, email)
        (trusted,) = site.lists.find_members(list_id=LIST_ID, email=TRUSTED)
        site.lists.update_member(trusted.member_id, moderation_action="accept")
        bans = DatabaseBanManager.from_site(site)
        bans.ban(BANNED, LIST_ID)
        bans.ban(r"^.*@evil\.example$")
        matches = DatabaseHeaderMatches.from_site(site)
        matches.append(LIST_ID, "X-Spam-Flag", "^yes", "discard")
        matches.append(LIST_ID, "X-Priority", "^1", "accept")
        matches.append(LIST_ID, "X-Spam-Level", r"\*{5}")
    with running_master(path, port):
        yield Running(path, port)


def test_banned_posters_are_rejected(running: Running) -> None:
    running.post(BANNED, "from a banned member")
    running.post("mallory@evil.example", "from a site-banned address")
    assert running.accepted_after("the banned posts") == [f"sentinel {running.sent}"]
    notices = wait_for(lambda: running.take("virgin"), "the rejection notices", DEADLINE)
    assert len(notices) == 2 and all("rejected" in subject for subject in notices)


def test_the_first_matching_header_match_decides(running: Running) -> None:
    running.post(MEMBER, "flagged and urgent", "X-Spam-Flag: YES\nX-Priority: 1\n")
    running.post(MEMBER, "flagged", "X-Spam-Flag: yes\n")
    # Accepted by its header match before non-member moderation could hold it.
    running.post("stranger@example.net", "urgent from a stranger", "X-Priority: 1 (Highest)\n")
    accepted = running.accepted_after("the header-matched posts")
    assert accepted == ["urgent from a stranger", f"sentinel {running.sent}"]
    assert running.take("virgin") == [] and running.held() == []


def test_a_match_without_action_holds(running: Running) -> None:
    running.post(MEMBER, "spammy", "X-Spam-Level: ******\n")
    wait_for(lambda: running.held() == ["spammy"], "the held post", DEADLINE)


def test_member_moderation_comes_first(running: Running) -> None:
    running.post(TRUSTED, "trusted but flagged", "X-Spam-Flag: yes\n")
    accepted = running.accepted_after("the trusted post")
    assert accepted == ["trusted but flagged", f"sentinel {running.sent}"]


def test_a_held_non_member_is_recorded_with_a_user(running: Running) -> None:
    running.post("newcomer@example.net", "first words")
    wait_for(lambda: "first words" in running.held(), "the held post", DEADLINE)
    with open_site(running.site_file) as site:
        (entry,) = site.lists.find_members(list_id=LIST_ID, email="newcomer@example.net")
        assert entry.role == "nonmember" and entry.user_id is not None
        assert site.users.get_user_by_address("newcomer@example.net") is not None
