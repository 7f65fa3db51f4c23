"""The subscription and unsubscription workflows, in process, on a real database."""

from __future__ import annotations

from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from posthorn.events import ConfirmationEvent, Event, SubscriptionEvent, UnsubscriptionEvent
from posthorn.interfaces.lists import IMailingList
from posthorn.model.bans import DatabaseBanManager
from posthorn.site import Site
from posthorn.templates import render
from posthorn.workflows.requests import confirm_request, list_requests, moderate_request
from posthorn.workflows.subscription import SubscriptionWorkflow
from posthorn.workflows.unsubscription import UnsubscriptionWorkflow

LIST = "dev@example.org"
OWNER = "owner@example.org"
ANNE = "anne@example.com"


class Outbox:
    """Stands for queue virgin: what the workflow would send, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[Message, dict[str, Any]]] = []

    def __call__(self, queue: str, msg: Message | bytes, msgdata: dict[str, Any]) -> str:
        assert queue == "virgin" and isinstance(msg, Message)
        self.sent.append((msg, msgdata))
        return str(len(self.sent))

    def kinds(self) -> list[str]:
        return [data["notice"] for _, data in self.sent]


@pytest.fixture
def mlist(site: Site) -> IMailingList:
    return site.lists.create(LIST, owners=[OWNER])


def policy(site: Site, **settings: Any) -> IMailingList:
    return site.lists.update(LIST, **settings)


def test_confirm_policy_sends_a_confirmation_then_welcomes(
    site: Site, mlist: IMailingList, recorded_events: list[Event]
) -> None:
    outbox = Outbox()
    outcome = SubscriptionWorkflow(site, mlist, outbox).start(ANNE)
    assert outcome.status == "confirmation-sent" and outcome.token_owner == "subscriber"
    assert outbox.kinds() == ["confirm-subscribe"]
    request = outbox.sent[0][0]
    assert request["Subject"] == f"confirm {outcome.token}"
    assert request["Reply-To"] == f"dev-confirm+{outcome.token}@example.org"
    # A fresh workflow object: nothing but the database carries the request.
    assert outcome.token is not None
    done = confirm_request(site, mlist, outcome.token, outbox)
    assert done.status == "subscribed"
    assert site.lists.roster(mlist).get_member(ANNE) is not None
    assert outbox.kinds() == ["confirm-subscribe", "welcome"]
    assert any(isinstance(e, ConfirmationEvent) for e in recorded_events)
    assert any(isinstance(e, SubscriptionEvent) and e.email == ANNE for e in recorded_events)
    # The token acted once.
    assert confirm_request(site, mlist, outcome.token, outbox).status == "unknown-token"


def test_clear_outcomes(site: Site, mlist: IMailingList) -> None:
    outbox = Outbox()
    DatabaseBanManager.from_site(site).ban("^.*@spam\\.example$", mlist.list_id)
    workflow = SubscriptionWorkflow(site, mlist, outbox)
    assert workflow.start("not an address").status == "invalid-address"
    banned = SubscriptionWorkflow(site, site.lists.require(LIST), outbox)
    assert banned.start("x@spam.example").status == "banned"
    site.lists.subscribe(mlist, ANNE)
    assert workflow.start(ANNE).status == "already-member"
    first = workflow.start("bob@example.com")
    again = workflow.start("bob@example.com")
    assert (again.status, again.token) == ("already-pending", first.token)
    assert outbox.kinds() == ["confirm-subscribe"]


def test_confirm_then_moderate_and_the_moderators_decision(site: Site, mlist: IMailingList) -> None:
    mlist = policy(site, subscription_policy="confirm_then_moderate")
    outbox = Outbox()
    first = SubscriptionWorkflow(site, mlist, outbox).start(ANNE)
    assert first.token is not None
    second = confirm_request(site, mlist, first.token, outbox)
    assert second.status == "awaiting-moderator" and second.token != first.token
    assert outbox.kinds() == ["confirm-subscribe", "moderator-request"]
    assert outbox.sent[1][1]["recipients"] == [OWNER]
    assert second.token is not None
    # The subscriber cannot approve their own request.
    assert confirm_request(site, mlist, second.token, outbox).status == "awaiting-moderator"
    assert [p.token for p in list_requests(site, mlist)] == [second.token]
    deferred = moderate_request(site, mlist, second.token, "defer", enqueue=outbox)
    assert deferred.status == "deferred"
    accepted = moderate_request(site, mlist, second.token, "accept", enqueue=outbox)
    assert accepted.status == "subscribed"
    assert outbox.kinds()[-1] == "welcome"


def test_reject_tells_the_requester(site: Site, mlist: IMailingList) -> None:
    mlist = policy(site, subscription_policy="moderate")
    outbox = Outbox()
    site.users.get_or_create_address(ANNE)
    site.users.verify_address(ANNE)
    pending = SubscriptionWorkflow(site, mlist, outbox).start(ANNE)
    assert pending.status == "awaiting-moderator" and pending.token is not None
    refused = moderate_request(site, mlist, pending.token, "reject", "spam", outbox)
    assert refused.status == "rejected"
    notice, data = outbox.sent[-1]
    assert data["recipients"] == [ANNE]
    assert "Reason: spam" in str(notice.get_payload(decode=True), "utf-8")
    assert site.lists.roster(mlist).get_member(ANNE) is None


def test_open_policy_with_a_verified_address_is_immediate(site: Site, mlist: IMailingList) -> None:
    mlist = policy(site, subscription_policy="open", send_welcome_message=False)
    outbox = Outbox()
    outcome = SubscriptionWorkflow(site, mlist, outbox).start(ANNE, pre_verified=True)
    assert outcome.status == "subscribed" and outbox.sent == []


def test_unsubscription_confirm_and_goodbye(
    site: Site, mlist: IMailingList, recorded_events: list[Event]
) -> None:
    site.lists.subscribe(mlist, ANNE)
    outbox = Outbox()
    workflow = UnsubscriptionWorkflow(site, mlist, outbox)
    assert workflow.start("nobody@example.com").status == "not-member"
    outcome = workflow.start(ANNE)
    assert outcome.status == "confirmation-sent" and outcome.token is not None
    done = confirm_request(site, mlist, outcome.token, outbox)
    assert done.status == "unsubscribed"
    assert outbox.kinds() == ["confirm-unsubscribe", "goodbye"]
    assert any(isinstance(e, UnsubscriptionEvent) for e in recorded_events)


def test_expired_tokens_are_unknown(site: Site, mlist: IMailingList) -> None:
    outbox = Outbox()
    workflow = SubscriptionWorkflow(site, mlist, outbox)
    workflow.lifetime = timedelta(seconds=-1)
    outcome = workflow.start(ANNE)
    assert outcome.token is not None
    expired = confirm_request(site, mlist, outcome.token, outbox)
    assert expired.status == "unknown-token" and "expired" in expired.message


def test_templates_are_overridable_per_site_and_per_list(
    site: Site, mlist: IMailingList, var_dir: Path
) -> None:
    root = var_dir / "templates"
    (root / "en").mkdir(parents=True)
    (root / "en" / "welcome.txt").write_text("Subject: Hi $display_name\n\nsite $unknown\n")
    subject, body = render(site.config, "welcome", mlist)
    assert (subject, body) == ("Hi Dev", "site $unknown\n")
    per_list = root / "lists" / mlist.list_id / "en"
    per_list.mkdir(parents=True)
    (per_list / "welcome.txt").write_text("Subject: list\n\n$fqdn_listname\n")
    assert render(site.config, "welcome", mlist) == ("list", f"{LIST}\n")
    shipped = render(site.config, "goodbye", mlist, address=ANNE)
    assert ANNE in shipped[1]


def test_administrators_hear_of_membership_changes_when_the_list_asks(
    site: Site, mlist: IMailingList
) -> None:
    outbox = Outbox()
    mlist = policy(site, subscription_policy="open", unsubscription_policy="open")
    SubscriptionWorkflow(site, mlist, outbox).start(ANNE, pre_verified=True)
    assert outbox.kinds() == ["welcome"]
    mlist = policy(site, admin_notify_mchanges=True)
    UnsubscriptionWorkflow(site, mlist, outbox).start(ANNE)
    SubscriptionWorkflow(site, mlist, outbox).start(ANNE, pre_verified=True)
    assert outbox.kinds() == ["welcome", "goodbye", "admin-unsubscribed", "welcome",
                              "admin-subscribed"]  # fmt: skip
    notice, data = outbox.sent[-1]
    assert data["recipients"] == [OWNER] and ANNE in str(notice.get_payload(decode=True))
