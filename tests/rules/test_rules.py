"""Each built-in rule on its own: a hit, a miss, and the action it asks for."""

from __future__ import annotations

import email
from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.model.bans import DatabaseBanManager
from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.rules import leading_lines
from posthorn.rules.administrivia import Administrivia
from posthorn.rules.banned_address import BannedAddress
from posthorn.rules.emergency import Emergency
from posthorn.rules.header_match import HeaderMatch
from posthorn.rules.implicit_destination import ImplicitDestination
from posthorn.rules.loop import Loop
from posthorn.rules.max_recipients import MaxRecipients
from posthorn.rules.max_size import MaxSize
from posthorn.rules.member_moderation import MemberModeration
from posthorn.rules.no_subject import NoSubject
from posthorn.rules.nonmember_moderation import NonmemberModeration
from posthorn.rules.suspicious_header import SuspiciousHeader
from posthorn.site import Site
from tests.incoming.fixtures import LIST, MEMBER, make_post


def parse(data: bytes) -> Message:
    return email.message_from_bytes(data)


def check(
    rule: Any, mlist: IMailingList, data: bytes, **msgdata: Any
) -> tuple[bool, dict[str, Any]]:
    meta: dict[str, Any] = dict(msgdata)
    return rule.check(mlist, parse(data), meta), meta


def test_emergency(site: Site, mlist: IMailingList) -> None:
    assert not check(Emergency(site), mlist, make_post())[0]
    mlist = site.lists.update(LIST, emergency=True)
    hit, meta = check(Emergency(site), mlist, make_post())
    assert hit and "emergency" in meta["moderation_reasons"][0]


def test_loop(site: Site, mlist: IMailingList) -> None:
    assert not check(Loop(site), mlist, make_post(extra="X-BeenThere: other@example.org\n"))[0]
    assert check(Loop(site), mlist, make_post(extra="X-BeenThere: Dev@Example.org\n"))[0]


def test_banned_exact_regex_and_site(site: Site, mlist: IMailingList) -> None:
    bans = DatabaseBanManager.from_site(site)
    bans.ban("Bad@Example.net", mlist.list_id)
    bans.ban(r"^.*@spam\.example$", mlist.list_id)
    rule = BannedAddress(site)
    assert check(rule, mlist, make_post(sender="bad@example.NET"))[0]
    assert check(rule, mlist, make_post(sender="x@SPAM.example"))[0]
    assert not check(rule, mlist, make_post())[0]
    # The envelope sender is checked too: a forged From does not dodge a ban.
    hit, meta = check(rule, mlist, make_post(), envelope_sender="bad@example.net")
    assert hit and "bad@example.net is banned" in meta["moderation_reasons"][0]


def test_site_bans(site: Site, mlist: IMailingList) -> None:
    bans = DatabaseBanManager.from_site(site)
    bans.ban(r"^.*@evil\.example$")
    assert check(BannedAddress(site), mlist, make_post(sender="m@evil.example"))[0]
    bans.unban(r"^.*@evil\.example$")
    assert not check(BannedAddress(site), mlist, make_post(sender="m@evil.example"))[0]


def test_member_moderation(site: Site, mlist: IMailingList) -> None:
    rule = MemberModeration(site)
    assert not check(rule, mlist, make_post())[0]  # default_member_action is defer
    (member,) = site.lists.find_members(list_id=mlist.list_id, email=MEMBER)
    site.lists.update_member(member.member_id, moderation_action="discard")
    hit, meta = check(rule, mlist, make_post())
    assert hit and meta["moderation_action"] == "discard"
    assert not check(rule, mlist, make_post(sender="stranger@example.net"))[0]


def test_nonmember_moderation(site: Site, mlist: IMailingList) -> None:
    rule = NonmemberModeration(site)
    assert not check(rule, mlist, make_post())[0]
    hit, meta = check(rule, mlist, make_post(sender="stranger@example.net"))
    assert hit and meta["moderation_action"] == "hold"
    mlist = site.lists.update(LIST, accept_these_nonmembers=[r"^.*@example\.net$"])
    hit, meta = check(rule, mlist, make_post(sender="stranger@example.net"))
    assert hit and meta["moderation_action"] == "accept"
    site.lists.subscribe(LIST, "nm@example.org", role="nonmember", moderation_action="reject")
    hit, meta = check(rule, mlist, make_post(sender="nm@example.org"))
    assert meta["moderation_action"] == "reject"


def test_forged_member_from_is_a_nonmember(site: Site, mlist: IMailingList) -> None:
    forged = make_post(sender=f'"{MEMBER}" <mallory@evil.example>')
    hit, meta = check(NonmemberModeration(site), mlist, forged)
    assert hit and meta["moderation_action"] == "hold"
    assert not check(MemberModeration(site), mlist, forged)[0]


def test_administrivia(site: Site, mlist: IMailingList) -> None:
    rule = Administrivia(site)
    assert check(rule, mlist, make_post(subject="unsubscribe"))[0]
    assert check(rule, mlist, make_post(body="\nhelp\n"))[0]
    assert not check(rule, mlist, make_post(subject="Help with my build please, it fails"))[0]


def test_implicit_destination(site: Site, mlist: IMailingList) -> None:
    rule = ImplicitDestination(site)
    assert not check(rule, mlist, make_post())[0]
    assert check(rule, mlist, make_post(to="someone@example.com"))[0]
    mlist = site.lists.update(LIST, acceptable_aliases=["^dev-alias@"])
    assert not check(rule, mlist, make_post(to="dev-alias@example.org"))[0]


def test_max_recipients_and_size(site: Site, mlist: IMailingList) -> None:
    many = ", ".join(f"u{i}@example.com" for i in range(10))
    assert check(MaxRecipients(site), mlist, make_post(to=many))[0]
    assert not check(MaxRecipients(site), mlist, make_post())[0]
    assert check(MaxSize(site), mlist, make_post(), original_size=41 * 1024)[0]
    assert not check(MaxSize(site), mlist, make_post(), original_size=1000)[0]


def test_no_subject(site: Site, mlist: IMailingList) -> None:
    assert check(NoSubject(site), mlist, make_post(subject=" "))[0]
    assert check(NoSubject(site), mlist, make_post(subject="[Dev]"))[0]
    assert not check(NoSubject(site), mlist, make_post())[0]


def test_suspicious_and_header_match(site: Site, mlist: IMailingList) -> None:
    mlist = site.lists.update(LIST, bounce_matching_headers="# comment\nX-Mailer: ^BulkMail\n")
    assert check(SuspiciousHeader(site), mlist, make_post(extra="X-Mailer: BulkMail 2\n"))[0]
    assert not check(SuspiciousHeader(site), mlist, make_post())[0]
    matches = DatabaseHeaderMatches.from_site(site)
    matches.append(mlist.list_id, "X-Spam-Flag", "^yes", "discard")
    matches.append(mlist.list_id, "X-Spam-Level", r"\*{5}")
    hit, meta = check(HeaderMatch(site), mlist, make_post(extra="X-Spam-Flag: YES\n"))
    assert hit and meta["moderation_action"] == "discard"
    # A match without an action leaves the rule's own action (hold) to the chain.
    hit, meta = check(HeaderMatch(site), mlist, make_post(extra="X-Spam-Level: *******\n"))
    assert hit and "moderation_action" not in meta
    assert not check(HeaderMatch(site), mlist, make_post())[0]


def test_leading_lines_cut_as_splitlines_cuts_the_whole_text() -> None:
    # A prefix is split, not the whole body: a line cut at the prefix's end, or a
    # "\r\n" pair split by it, must not show up as a line of its own.
    for blank in (0, 1, 4093, 4094, 4095, 4096, 20000):
        for ending in ("\n", "\r\n", "\r", "\x0c", "\u2028"):
            text = " " * blank + ending + ending.join(f"line {n}" for n in range(3000))
            for count in (1, 5, 3000, 3001):
                expected = [line for line in text.splitlines() if line.strip()][:count]
                assert leading_lines(text, count) == expected, (blank, ending, count)


def test_administrivia_finds_a_command_after_a_long_blank_start(
    site: Site, mlist: IMailingList
) -> None:
    body = "\n" * 9000 + "one\ntwo\nthree\nfour\nunsubscribe\n" + "more text\n" * 5000
    assert check(Administrivia(site), mlist, make_post(body=body))[0]
    body = "\n" * 9000 + "one\ntwo\nthree\nfour\nfive\nunsubscribe\n"
    assert not check(Administrivia(site), mlist, make_post(body=body))[0]
