"""The master holds the LMTP and REST ports for their runners; a reload that turns a
runner off, or moves it to another port, gives the old port up: clients are refused at
once instead of waiting in a backlog nobody reads."""

from __future__ import annotations

import socket

import pytest

from tests.processes import free_port
from tests.runners.harness import PosthornSite, sample
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

RECORDER = {"class": sample("Recorder"), "sleep_time": "100ms"}


def greets(port: int) -> bool:
    """Whether a server on ``port`` sends its first line (a 220, or an HTTP reply)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"GET /3.1/system/versions HTTP/1.0\r\n\r\n")
            return bool(sock.recv(64))
    except OSError:
        return False


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:  # accepted into a backlog nobody reads: no answer, a timeout
        return False


def configure(site: PosthornSite, lmtp: int | None, rest: int | None) -> None:
    """The recorder always; the LMTP and REST runners on those ports, or off."""
    runners: dict[str, dict[str, str]] = {"alpha": RECORDER}
    extra: dict[str, dict[str, str]] = {}
    if lmtp is not None:
        runners["lmtp"] = {"start": "yes"}
        extra["mta"] = {"lmtp_port": str(lmtp)}
    if rest is not None:
        runners["rest"] = {"start": "yes"}
        extra["webservice"] = {"port": str(rest)}
    site.configure(runners, extra=extra)


def reload(site: PosthornSite, running: int) -> None:
    done = site.cli("restart")
    assert done.returncode == 0, done.stderr
    wait_for(lambda: site.log("master").count("configuration reloaded") >= running, "reloaded")


def test_a_reload_gives_up_the_ports_of_runners_turned_off_or_moved(
    site: PosthornSite,
) -> None:
    lmtp, rest = free_port(), free_port()
    configure(site, lmtp, rest)
    site.start()
    site.wait_running(3)
    wait_for(lambda: greets(lmtp) and greets(rest), "both services answering")

    configure(site, None, None)
    reload(site, 1)
    wait_for(lambda: refused(lmtp) and refused(rest), "both ports refused")
    assert [row["name"] for row in site.wait_running(1)] == ["alpha"]

    moved = free_port()
    configure(site, moved, rest)
    reload(site, 2)
    wait_for(lambda: greets(moved) and greets(rest), "both services answering again")
    assert refused(lmtp)
