"""The incoming runner under a real master: LMTP in, queues pipeline and virgin out.

The pipeline, virgin and outgoing runners are not started here, so what the incoming
runner decides stays on their queues for the assertions.  DMARC lookups go to the
loopback responder in ``tests/dnsserver.py``.
"""

from __future__ import annotations

import email
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from posthorn.cli import main
from posthorn.queues import Switchboard
from tests.dnsserver import DnsServer
from tests.incoming.fixtures import LIST, MEMBER, MODERATOR, OWNER, PASSWORD, make_post, text_of
from tests.lmtp.conftest import Master
from tests.processes import free_port
from tests.sites import prepared_site, running_master, write_site_config
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

STRICT = "bob@strict.example"
RULES = (
    "approved, emergency, loop, banned-address, dmarc-mitigation, member-moderation, "
    "nonmember-moderation, administrivia, implicit-destination, max-size, no-subject, "
    "tests.incoming.broken_rules:Explode"
)
DEADLINE = 15.0


def site_file(tmp: Path, port: int, dns_port: int) -> Path:
    extra = {
        "dmarc": {"nameservers": "127.0.0.1", "port": dns_port, "timeout": "2s"},
        "chain.default-posting-chain": {"rules": RULES},
    }
    return write_site_config(
        tmp, lmtp_port=port, running=("lmtp", "incoming"), extra_sections=extra
    )


def create_list(path: Path) -> None:
    with prepared_site(path) as site:
        site.lists.create(LIST, owners=[OWNER])
        site.lists.subscribe(LIST, MODERATOR, role="moderator")
        for address in (MEMBER, STRICT):
            site.lists.subscribe(LIST, address)
        site.lists.update(LIST, moderator_password=PASSWORD, dmarc_mitigate_action="munge_from")


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Master, Path]]:
    tmp = tmp_path_factory.mktemp("incoming")
    port = free_port()
    with DnsServer({"_dmarc.strict.example": ["v=DMARC1; p=reject"]}) as dns:
        path = site_file(tmp, port, dns.port)
        create_list(path)
        with running_master(path, port) as process:
            yield Master(process, port, tmp / "var"), path


@pytest.fixture
def server(master: tuple[Master, Path]) -> Master:
    for queue in ("pipeline", "virgin", "shunt"):
        master[0].take(queue)
    return master[0]


def deliver(server: Master, data: bytes, sender: str = MEMBER) -> None:
    with server.client() as lmtp:
        lmtp.sendmail(sender, [LIST], data)


def wait_entries(server: Master, queue: str, count: int = 1) -> list[tuple[bytes, dict[str, Any]]]:
    def ready() -> bool:
        return Switchboard(server.queue_dir / queue).count() >= count

    wait_for(ready, f"{count} entries on {queue}", DEADLINE)
    return server.take(queue)


def cli(path: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["-C", str(path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def held_ids(path: Path) -> list[str]:
    output = cli(path, "held", LIST)
    return [line.split("\t")[0] for line in output.splitlines()[1:] if "\t" in line]


def test_member_post_reaches_pipeline(server: Master) -> None:
    deliver(server, make_post(subject="member post"))
    ((_, meta),) = wait_entries(server, "pipeline")
    assert meta["list_id"] == "dev.example.org" and meta["rule_hits"] == []


def test_nonmember_held_then_accepted(server: Master, master: tuple[Master, Path]) -> None:
    path = master[1]
    deliver(server, make_post(sender="stranger@example.net", subject="from outside"),
            sender="stranger@example.net")  # fmt: skip
    notices = [meta for _, meta in wait_entries(server, "virgin", 2)]
    assert {n["notice"] for n in notices} == {"held", "held-poster"}
    (request_id,) = held_ids(path)
    cli(path, "moderate", LIST, request_id, "accept")
    ((_, meta),) = wait_entries(server, "pipeline")
    assert meta["approved"] is True and held_ids(path) == []


def test_nonmember_rejected_with_reason(server: Master, master: tuple[Master, Path]) -> None:
    path = master[1]
    deliver(server, make_post(sender="stranger@example.net", subject="spam"),
            sender="stranger@example.net")  # fmt: skip
    wait_entries(server, "virgin", 2)
    (request_id,) = held_ids(path)
    cli(path, "moderate", LIST, request_id, "reject", "--reason", "Please subscribe first")
    ((raw, meta),) = wait_entries(server, "virgin")
    assert meta["recipients"] == ["stranger@example.net"]
    assert "Please subscribe first" in text_of(email.message_from_bytes(raw), 0)
    assert server.take("pipeline") == []


def test_loop_is_discarded(server: Master) -> None:
    deliver(server, make_post(subject="looping", extra=f"X-BeenThere: {LIST}\n"))
    wait_for(lambda: "discarded" in server.log("incoming"), "the discard log line", DEADLINE)
    assert server.take("pipeline") == [] and server.take("virgin") == []


def test_approved_nonmember_password_gone(server: Master) -> None:
    body = f"Approved: {PASSWORD}\n\nReleased by a moderator\n"
    deliver(server, make_post(sender="stranger@example.net", body=body), sender="x@example.net")
    ((raw, meta),) = wait_entries(server, "pipeline")
    assert meta["approved"] is True and PASSWORD.encode() not in raw
    assert b"Released by a moderator" in raw


def test_dmarc_reject_domain_gets_munge(server: Master) -> None:
    deliver(server, make_post(sender=STRICT, subject="strict"), sender=STRICT)
    ((raw, meta),) = wait_entries(server, "pipeline")
    assert meta["dmarc_action"] == "munge_from"
    assert b"dmarc-mitigation" in raw


def test_raising_rule_shunts_and_unshunt_reprocesses(
    server: Master, master: tuple[Master, Path]
) -> None:
    marker = server.var_dir / "explode"
    marker.touch()
    try:
        deliver(server, make_post(subject="unlucky"))
        shunt = server.queue_dir / "shunt"
        wait_for(lambda: Switchboard(shunt).count() == 1, "a shunted entry", DEADLINE)
        assert "the explode rule is broken" in server.log("incoming")
    finally:
        marker.unlink()
    cli(master[1], "unshunt")
    ((raw, _),) = wait_entries(server, "pipeline")
    assert b"unlucky" in raw
