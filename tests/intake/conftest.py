"""A real site for the intake tests: LMTP in, the pipeline, SMTP out to a sink, REST.

The list is archived by ``mail-archive``, whose copies go to the sink as well (to
``ARCHIVE``), so every path that hands a post to an MTA ends at the sink.

One master per module.  ``Site.post`` hands a message to the LMTP runner as the MTA
would and returns the replies; ``Site.rest`` is one raw REST request.
"""

from __future__ import annotations

import base64
import json
import smtplib
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from posthorn.queues import Switchboard
from posthorn.site import Site
from tests.processes import free_port
from tests.sites import master_with_sink
from tests.smtpsink import SMTPSink
from tests.waiting import wait_for

LIST = "dev@example.org"
POSTER = "poster@example.com"
MEMBER = "member@example.com"
PASSWORD = "intake-test-password"
ARCHIVE = "archive@example.net"
RUNNING = ("lmtp", "incoming", "pipeline", "outgoing", "retry", "virgin", "rest", "archive")


@dataclass
class Running:
    site_file: Path
    lmtp_port: int
    rest_port: int
    sink: SMTPSink

    @property
    def var_dir(self) -> Path:
        return self.site_file.parent / "var"

    def post(self, data: bytes, sender: str = POSTER) -> dict[str, tuple[int, bytes]]:
        """LMTP delivery of ``data`` to the list; the reply per recipient."""
        with smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=30) as lmtp:
            try:
                lmtp.sendmail(sender, [LIST], data)
            except smtplib.SMTPDataError as error:
                return {LIST: (error.smtp_code, error.smtp_error)}
        return {}

    def rest(self, method: str, path: str, body: dict[str, str]) -> tuple[int, Any]:
        data = json.dumps(body).encode()
        url = f"http://127.0.0.1:{self.rest_port}/3.1{path}"
        req = urllib.request.Request(url, data=data, method=method)
        token = base64.b64encode(f"restadmin:{PASSWORD}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, json.loads(raw) if raw else None

    def queue(self, name: str) -> list[str]:
        return list(Switchboard(self.var_dir / "queue" / name).files)


def arrange(site: Site) -> None:
    site.lists.create(LIST, owners=["owner@example.org"])
    site.lists.subscribe(LIST, POSTER)
    site.lists.subscribe(LIST, MEMBER)
    site.lists.update(LIST, default_member_action="accept")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    rest_port = free_port()
    sections = {
        "webservice": {"port": rest_port, "admin_pass": PASSWORD},
        "archiver.mail-archive": {"enable": "yes", "recipient": ARCHIVE},
    }
    tmp = tmp_path_factory.mktemp("intake")
    with master_with_sink(
        tmp, running=RUNNING, arrange=arrange, extra_sections=sections,
        output=subprocess.DEVNULL,
    ) as (site_file, lmtp_port, sink):  # fmt: skip
        wait_for(lambda: _answers(rest_port), "the REST port")
        yield Running(site_file, lmtp_port, rest_port, sink)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
