"""End to end: a held post's moderator notice leaves through virgin and outgoing.

A real master runs the LMTP, incoming, virgin, outgoing and retry runners; an aiosmtpd
sink on a loopback port stands for the MTA and records what it is given.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.incoming.fixtures import LIST, MODERATOR, OWNER, make_post
from tests.incoming.test_master import DEADLINE, create_list
from tests.processes import free_port
from tests.sites import running_master, write_site_config
from tests.smtpsink import SMTPSink, running_sink
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

RUNNING = ("lmtp", "incoming", "virgin", "outgoing", "retry")


@pytest.fixture
def sink() -> Iterator[SMTPSink]:
    with running_sink() as sink:
        yield sink


def test_moderator_notice_reaches_the_mta(tmp_path: Path, sink: SMTPSink) -> None:
    lmtp_port = free_port()
    path = write_site_config(tmp_path, lmtp_port=lmtp_port, smtp_port=sink.port, running=RUNNING)
    create_list(path)
    with running_master(path, lmtp_port):
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail("stranger@example.net", [LIST],
                          make_post(sender="stranger@example.net", subject="outsider"))  # fmt: skip

        def moderator_notice() -> tuple[str, list[str], bytes] | None:
            with sink.lock:
                for received in sink.received:
                    if MODERATOR in received[1]:
                        return received
            return None

        mail_from, rcpts, content = wait_for(
            moderator_notice, "the moderator notice at the sink", DEADLINE
        )
        assert sorted(rcpts) == sorted([OWNER, MODERATOR])
        assert mail_from == "dev-bounces@example.org"
        assert b"requires approval" in content
