"""A postmap that fails, as Debian's ``postfix`` package installed without configuration
has one (no /etc/postfix/main.cf): creating or removing a list still works, the text
tables are written, and the failure is one warning, without a traceback.

The postmap here is a stand-in on the PATH that fails as that one does: a real Postfix
cannot be installed and configured (or left unconfigured) here without root, and the
tests must not depend on what the machine has in /etc/postfix.
"""

from __future__ import annotations

import base64
import logging
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from posthorn.cli import main
from tests.conftest import ConfigFactory, SiteFactory
from tests.processes import free_port
from tests.sites import open_site, prepared_site, running_master, write_site_config
from tests.waiting import wait_for

FATAL = "postmap: fatal: open /etc/postfix/main.cf: No such file or directory"
USER, PASSWORD = "restadmin", "a-test-password"


@pytest.fixture
def failing_postmap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``postmap`` first on the PATH that fails as an unconfigured Postfix's does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "postmap"
    fake.write_text(f"#!/bin/sh\necho '{FATAL}' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path('/usr/bin')}:{Path('/bin')}")
    return fake


def test_the_cli_creates_and_removes_a_list_and_warns(
    tmp_path: Path, failing_postmap: Path
) -> None:
    site_file = tmp_path / "posthorn.cfg"
    site_file.write_text(f"[paths]\nvar_dir: {tmp_path / 'var'}\n")
    created = CliRunner().invoke(main, ["-C", str(site_file), "create", "dev@example.org"])
    assert created.exit_code == 0, created.output
    assert "Created mailing list: dev@example.org" in created.stdout
    assert f"Warning: {failing_postmap.name} " in created.stderr
    assert FATAL in created.stderr and "Traceback" not in created.output
    transport = tmp_path / "var" / "data" / "postfix_lmtp"
    assert "dev-bounces@example.org" in transport.read_text()
    with open_site(site_file) as site:
        assert site.lists.get("dev@example.org") is not None
    removed = CliRunner().invoke(main, ["-C", str(site_file), "remove", "-y", "dev@example.org"])
    assert removed.exit_code == 0, removed.output
    assert FATAL in removed.stderr and "Traceback" not in removed.output
    assert "dev@example.org" not in transport.read_text()


def post(url: str, fields: dict[str, str]) -> int:
    request = urllib.request.Request(url, urllib.parse.urlencode(fields).encode(), method="POST")
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_rest_creates_the_list_and_logs_a_warning(tmp_path: Path, failing_postmap: Path) -> None:
    """The REST answer stays Mailman's (201, no body); the warning is in rest.log."""
    lmtp_port, rest_port = free_port(), free_port()
    site_file = write_site_config(
        tmp_path,
        lmtp_port=lmtp_port,
        running=("lmtp", "rest"),
        extra_sections={"webservice": {"port": rest_port, "admin_pass": PASSWORD}},
    )
    with prepared_site(site_file):
        pass
    api = f"http://127.0.0.1:{rest_port}/3.1"
    log = tmp_path / "var" / "logs" / "rest.log"
    with running_master(site_file, lmtp_port):
        assert post(f"{api}/domains", {"mail_host": "example.org"}) == 201
        assert post(f"{api}/lists", {"fqdn_listname": "dev@example.org"}) == 201
        wait_for(lambda: log.exists() and FATAL in log.read_text(), "the warning in rest.log")
    with open_site(site_file) as site:
        assert site.lists.get("dev@example.org") is not None
    assert "dev-bounces@example.org" in (tmp_path / "var" / "data" / "postfix_lmtp").read_text()
    text = log.read_text()
    line = next(line for line in text.splitlines() if FATAL in line)
    assert "WARNING" in line and "run `posthorn aliases`" in line
    assert "Traceback" not in text


def test_a_postmap_named_but_missing_is_a_warning_too(
    make_config: ConfigFactory, make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(mta={"postmap_command": "/nonexistent/postmap"})
    with caplog.at_level(logging.WARNING):
        make_site(config).lists.create("dev@example.org")
    assert "dev@example.org" in (config.path("data_dir") / "postfix_lmtp").read_text()
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "/nonexistent/postmap not found; the MTA tables are written" in record.getMessage()
