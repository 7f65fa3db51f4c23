"""The incoming runner in process: unusable messages, failures and moderation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from posthorn.config import ConfigError
from posthorn.interfaces.lists import IMailingList
from posthorn.queues import Switchboard
from posthorn.runners.incoming import IncomingRunner
from posthorn.site import Site
from tests.incoming.fixtures import LIST, Entries, make_post

Take = Callable[[str], Entries]
Post = Callable[..., str]
RULES = "approved, tests.incoming.broken_rules:Explode, nonmember-moderation"


def test_no_from_is_held(site: Site, mlist: IMailingList, post: Post, drain: Any) -> None:
    post(b"To: dev@example.org\nSubject: anonymous\n\nwho am I\n")
    drain()
    (held,) = site.messages.held_for_list(mlist.list_id)
    assert held.reason == "The message has no From header"
    assert held.message["Message-ID"]  # one was added, so it could be stored


def test_headerless_message_goes_to_bad(site: Site, post: Post, drain: Any, take: Take) -> None:
    post(b"")
    drain()
    ((_, meta),) = take("bad")
    assert meta["bad_reason"] == "incoming: the message has no headers"
    assert take("pipeline") == []


def test_duplicate_message_ids_keep_the_first(post: Post, drain: Any, take: Take) -> None:
    post(make_post(extra="Message-ID: <second@example.com>\n"))
    drain()
    ((msg, _),) = take("pipeline")
    assert msg.get_all("Message-ID") == ["<m@example.com>"]


def test_unknown_rule_is_a_configuration_error(make_config: Any, make_site: Any) -> None:
    site = make_site(make_config({"chain.default-posting-chain": {"rules": "no-such-rule"}}))
    with pytest.raises(ConfigError, match="no-such-rule"):
        IncomingRunner(site, "incoming")


def test_raising_rule_shunts_then_unshunt_reruns(
    make_config: Any, make_site: Any, var_dir: Path
) -> None:
    site = make_site(make_config({"chain.default-posting-chain": {"rules": RULES}}))
    site.lists.create(LIST)
    runner = IncomingRunner(site, "incoming")
    (var_dir / "explode").touch()
    runner.queue("incoming").enqueue(make_post(), {"list_id": "dev.example.org", "to_list": True})
    runner.run_once()
    shunt = Switchboard(var_dir / "queue" / "shunt")
    assert shunt.count() == 1
    (var_dir / "explode").unlink()
    assert [queue for _, queue in shunt.unshunt()] == ["incoming"]
    runner.run_once()
    assert len(site.messages.held_for_list("dev.example.org")) == 1
    shunt.close()
    runner.close()


def hold_one(site: Site, mlist: IMailingList) -> int:
    msgdata = {"list_id": mlist.list_id, "rule_hits": ["nonmember-moderation"]}
    return site.messages.hold(mlist.list_id, make_post(sender="x@example.net"),
                              "not a member", "x@example.net", "Hello", msgdata)  # fmt: skip


@pytest.fixture
def cli_list(cli_site: Site) -> IMailingList:
    return cli_site.lists.create(LIST, owners=["owner@example.org"])


def queue_entries(site: Site, name: str) -> list[dict[str, Any]]:
    board = Switchboard(site.config.path("queue_dir") / name)
    found = [board.dequeue_raw(f)[1] for f in board.files]
    board.close()
    return found


def test_held_lists_and_moderate_accepts(
    cli_site: Site, cli_list: IMailingList, invoke: Callable[..., Result]
) -> None:
    request_id = hold_one(cli_site, cli_list)
    result = invoke("held", LIST)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "id\tdate\tsender\tsubject\treason"
    assert result.output.splitlines()[1].split("\t")[0] == str(request_id)
    assert "x@example.net\tHello\tnot a member" in result.output
    result = invoke("moderate", LIST, str(request_id), "accept")
    assert result.exit_code == 0, result.output
    (meta,) = queue_entries(cli_site, "pipeline")
    assert meta["approved"] is True and meta["list_id"] == cli_list.list_id
    assert cli_site.messages.held_count(cli_list.list_id) == 0


def test_moderate_reject_tells_the_poster(
    cli_site: Site, cli_list: IMailingList, invoke: Callable[..., Result]
) -> None:
    request_id = hold_one(cli_site, cli_list)
    result = invoke("moderate", LIST, str(request_id), "reject", "--reason", "Off topic")
    assert result.exit_code == 0, result.output
    (meta,) = queue_entries(cli_site, "virgin")
    assert meta["recipients"] == ["x@example.net"] and meta["notice"] == "reject"
    assert queue_entries(cli_site, "pipeline") == []


def test_moderate_defer_keeps_and_unknown_id_fails(
    cli_site: Site, cli_list: IMailingList, invoke: Callable[..., Result]
) -> None:
    request_id = hold_one(cli_site, cli_list)
    assert invoke("moderate", LIST, str(request_id), "defer").exit_code == 0
    assert cli_site.messages.held_count(cli_list.list_id) == 1
    result = invoke("moderate", LIST, "999", "discard")
    assert result.exit_code == 1 and "no held message 999" in result.output
    assert "Traceback" not in result.output
