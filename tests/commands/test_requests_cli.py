"""``posthorn requests``: listing pending requests and deciding them."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from posthorn.site import Site
from posthorn.workflows.subscription import SubscriptionWorkflow

LIST = "dev@example.org"


def test_list_accept_and_unknown(cli_site: Site, invoke: Callable[..., Result]) -> None:
    mlist = cli_site.lists.create(LIST, owners=["owner@example.org"])
    assert "No pending requests" in invoke("requests", LIST).output
    outcome = SubscriptionWorkflow(cli_site, mlist).start("anne@example.com")
    listed = invoke("requests", LIST)
    assert listed.exit_code == 0
    header, row = listed.output.splitlines()
    assert header == "id\tdate\temail\ttype\twaiting_for"
    assert row.startswith(f"{outcome.token}\t") and row.endswith(
        "\tanne@example.com\tsubscription\tsubscriber"
    )
    accepted = invoke("requests", LIST, str(outcome.token), "accept")
    assert accepted.exit_code == 0, accepted.output
    assert "is now a member" in accepted.output
    again = invoke("requests", LIST, str(outcome.token), "reject")
    assert again.exit_code == 1 and "no pending request" in again.output
    assert invoke("requests", LIST, "sometoken").exit_code == 2
