"""Two hosts on one PostgreSQL database and one RabbitMQ broker, as docs/multiple-hosts.md
describes: each runs the runners its site file starts, and a post taken in by either
goes through the other's runners where those are.

Host A runs ``lmtp`` and ``incoming``; host B runs ``lmtp``, ``pipeline``, ``virgin``
and ``outgoing`` (``[runner.NAME] start: no`` for the rest).  Posts arrive at both over
LMTP; every one passes A's incoming runner and B's pipeline and outgoing runners, and
each member gets each post once.  Stopping host A then leaves its LMTP posts waiting
on the broker for an incoming runner, which host B takes over by starting one.
"""

from __future__ import annotations

import smtplib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from posthorn.config import load_config
from tests.broker import URL, broker_prefix, size
from tests.processes import free_port
from tests.sites import prepared_site, running_master, write_site_config
from tests.smtpsink import running_sink

pytestmark = pytest.mark.slow

LIST = "dev@example.org"
POSTER = "poster@example.com"
MEMBERS = ("ann@example.com", "bob@example.net")
POSTS = 6
HOST_A = ("lmtp", "incoming")
HOST_B = ("lmtp", "pipeline", "virgin", "outgoing")


@pytest.fixture
def prefix() -> Iterator[str]:
    with broker_prefix() as prefix:
        yield prefix


def post(n: int) -> bytes:
    return (f"From: {POSTER}\nTo: {LIST}\nSubject: Across {n}\n"
            f"Message-ID: <across-{n}@example.com>\n\nBody {n}.\n").encode()  # fmt: skip


def host(tmp: Path, name: str, running: tuple[str, ...], shared: dict[str, dict[str, object]],
         smtp_port: int) -> Path:  # fmt: skip
    (tmp / name).mkdir(exist_ok=True)
    return write_site_config(tmp / name, lmtp_port=free_port(), smtp_port=smtp_port,
                             running=running, extra_sections=shared)  # fmt: skip


def lmtp_port(path: Path) -> int:
    return load_config(path)["mta"].get_int("lmtp_port")


def send(port: int, n: int) -> None:
    with smtplib.LMTP("127.0.0.1", port, timeout=10) as lmtp:
        lmtp.sendmail(POSTER, [LIST], post(n))


def test_a_post_taken_in_on_one_host_goes_out_through_the_other(
    tmp_path: Path, postgres_url: str, prefix: str
) -> None:
    shared: dict[str, dict[str, object]] = {
        "database": {"url": postgres_url},
        "queues": {"backend": "amqp", "amqp_url": URL, "amqp_prefix": prefix},
    }
    with running_sink() as sink:
        a = host(tmp_path, "a", HOST_A, shared, sink.port)
        b = host(tmp_path, "b", HOST_B, shared, sink.port)
        with prepared_site(a) as site:
            site.lists.create(LIST, owners=["owner@example.org"])
            for member in (POSTER, *MEMBERS):
                site.lists.subscribe(LIST, member)
        with prepared_site(b):
            pass
        with (
            running_master(a, lmtp_port(a), subprocess.DEVNULL),
            running_master(b, lmtp_port(b), subprocess.DEVNULL),
        ):
            for n in range(POSTS):
                send(lmtp_port(a if n % 2 else b), n)
            for n in range(POSTS):
                for member in MEMBERS:
                    sink.wait(member, f"Across {n}")
        # Host A gone: what host B takes in waits on the broker for an incoming runner.
        with running_master(b, lmtp_port(b), subprocess.DEVNULL):
            send(lmtp_port(b), POSTS)
            assert size(prefix, "incoming") == 1
        b_with_incoming = host(tmp_path, "b", (*HOST_B, "incoming"), shared, sink.port)
        with running_master(b_with_incoming, lmtp_port(b_with_incoming), subprocess.DEVNULL):
            for member in MEMBERS:
                sink.wait(member, f"Across {POSTS}")
    for member in MEMBERS:
        assert sink.counts[member] == POSTS + 1, member
    # Every copy went out through host B: host A has no outgoing runner.
    assert not (tmp_path / "a" / "var" / "logs" / "outgoing.log").exists()
