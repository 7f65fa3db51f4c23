"""The posting chain and the four outcome chains, through the in-process runner."""

from __future__ import annotations

import email
from collections.abc import Callable
from typing import Any

from posthorn.chains.default_posting_chain import PostingChain
from posthorn.interfaces.lists import IMailingList
from posthorn.model.bans import DatabaseBanManager
from posthorn.site import Site
from tests.incoming.fixtures import (
    LIST,
    MEMBER,
    MODERATOR,
    OWNER,
    PASSWORD,
    Entries,
    make_post,
    text_of,
)

Take = Callable[[str], Entries]
Post = Callable[..., str]


def test_member_post_is_accepted_with_rules_recorded(post: Post, drain: Any, take: Take) -> None:
    post(make_post(extra="X-Posthorn-Rule-Hits: forged\n"))
    assert drain() == 1
    ((msg, meta),) = take("pipeline")
    assert meta["rule_hits"] == []
    assert "nonmember-moderation" in meta["rule_misses"]
    assert msg["X-Posthorn-Rule-Hits"] is None
    assert "member-moderation" in msg["X-Posthorn-Rule-Misses"]


def test_nonmember_post_is_held_and_moderators_told(
    site: Site, mlist: IMailingList, post: Post, drain: Any, take: Take
) -> None:
    post(make_post(sender="stranger@example.net"), envelope_sender="stranger@example.net")
    drain()
    assert take("pipeline") == []
    (held,) = site.messages.held_for_list(mlist.list_id)
    assert held.sender == "stranger@example.net"
    assert "not from a list member" in held.reason
    assert held.msgdata["rule_hits"] == ["nonmember-moderation"]
    notices = {meta["notice"]: (msg, meta) for msg, meta in take("virgin")}
    msg, meta = notices["held"]
    assert sorted(meta["recipients"]) == sorted([OWNER, MODERATOR])
    assert meta["sender"] == "dev-bounces@example.org" and meta["list_id"] == mlist.list_id
    assert str(held.request_id) in text_of(msg)
    assert notices["held-poster"][1]["recipients"] == ["stranger@example.net"]


def test_holds_collect_every_reason(
    site: Site, mlist: IMailingList, post: Post, drain: Any
) -> None:
    post(make_post(subject="", to="elsewhere@example.com"))
    drain()
    (held,) = site.messages.held_for_list(mlist.list_id)
    assert "no subject" in held.reason and "To or Cc" in held.reason
    assert held.msgdata["rule_hits"] == ["implicit-destination", "no-subject"]


def test_loop_is_discarded(
    site: Site, mlist: IMailingList, post: Post, drain: Any, take: Take
) -> None:
    post(make_post(extra=f"X-BeenThere: {LIST}\n"))
    drain()
    assert take("pipeline") == [] and take("virgin") == []
    assert site.messages.held_count(mlist.list_id) == 0


def test_ban_rejects_with_a_notice(site: Site, post: Post, drain: Any, take: Take) -> None:
    DatabaseBanManager.from_site(site).ban(MEMBER, site.lists.require(LIST).list_id)
    post(make_post())
    drain()
    ((msg, meta),) = take("virgin")
    assert meta["recipients"] == [MEMBER] and meta["notice"] == "reject"
    assert "banned" in text_of(msg, 0)
    assert take("pipeline") == []


def test_approved_nonmember_post_accepted_password_gone(post: Post, drain: Any, take: Take) -> None:
    post(make_post(sender="stranger@example.net", body=f"Approved: {PASSWORD}\n\nText\n"))
    drain()
    ((msg, meta),) = take("pipeline")
    assert meta["approved"] is True and meta["rule_hits"] == ["approved"]
    assert PASSWORD not in msg.as_string()


def test_emergency_hold_is_not_undone_by_member_accept(
    site: Site, mlist: IMailingList, post: Post, drain: Any
) -> None:
    site.lists.update(LIST, emergency=True, default_member_action="accept")
    post(make_post())
    drain()
    (held,) = site.messages.held_for_list(mlist.list_id)
    assert held.msgdata["rule_hits"] == ["emergency", "member-moderation"]


def test_owner_mail_skips_the_rules(post: Post, drain: Any, take: Take) -> None:
    post(make_post(sender="stranger@example.net", subject=""), to_owner=True, to_list=False)
    drain()
    ((_, meta),) = take("pipeline")
    assert meta["pipeline"] == "default-owner-pipeline"
    assert sorted(meta["recipients"]) == sorted([OWNER, MODERATOR])
    assert "rule_hits" not in meta


def test_owner_mail_takes_the_lists_owner_pipeline(
    site: Site, post: Post, drain: Any, take: Take
) -> None:
    site.lists.update(LIST, owner_pipeline="default-posting-pipeline")
    post(make_post(sender="stranger@example.net"), to_owner=True, to_list=False)
    drain()
    ((_, meta),) = take("pipeline")
    assert meta["pipeline"] == "default-posting-pipeline"


def test_rule_action_override_by_configuration(make_config: Any, make_site: Any) -> None:
    config = make_config({"chain.default-posting-chain": {"rules": "loop=hold, no-subject"}})
    site = make_site(config)
    mlist = site.lists.create(LIST)
    msg = email.message_from_bytes(make_post(extra=f"X-BeenThere: {LIST}\n"))
    assert PostingChain(site).decide(mlist, msg, {}) == "hold"
