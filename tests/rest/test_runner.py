"""The REST runner is safe by default: no public bind with a shipped or empty password."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from posthorn.config import ConfigError
from posthorn.rest.app import Api
from posthorn.runners.base import ExitCode
from posthorn.runners.process import run_runner
from posthorn.runners.rest import RestRunner
from tests.conftest import ConfigFactory, SiteFactory


@pytest.mark.parametrize("password", ["restpass", ""])
def test_refuses_a_public_bind_with_a_weak_password(
    make_config: ConfigFactory, make_site: SiteFactory, password: str
) -> None:
    config = make_config(webservice={"hostname": "0.0.0.0", "admin_pass": password})
    with pytest.raises(ConfigError, match="admin_pass"):
        RestRunner(make_site(config), "rest")


def test_run_runner_exits_with_config(make_config: ConfigFactory, make_site: SiteFactory) -> None:
    config = make_config(webservice={"hostname": "192.0.2.1"})
    make_site(config)  # migrated, so only the password can stop it
    assert run_runner(config, "rest", RestRunner) == ExitCode.CONFIG
    log = (config.path("log_dir") / "rest.log").read_text()
    assert "refusing to serve REST on 192.0.2.1" in log


@pytest.mark.parametrize(
    ("host", "password"), [("127.0.0.1", "restpass"), ("::1", "s3"), ("0.0.0.0", "s3cret-enough")]
)
def test_allows_loopback_or_a_real_password(
    make_config: ConfigFactory, make_site: SiteFactory, host: str, password: str
) -> None:
    config = make_config(webservice={"hostname": host, "admin_pass": password})
    assert RestRunner(make_site(config), "rest").host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "0.0.0.0"])
def test_refuses_an_empty_password_on_every_address(
    make_config: ConfigFactory, make_site: SiteFactory, host: str
) -> None:
    config = make_config(webservice={"hostname": host, "admin_pass": ""})
    with pytest.raises(ConfigError, match="with an empty password; set admin_pass"):
        RestRunner(make_site(config), "rest")


def test_an_empty_password_is_never_a_credential(
    make_config: ConfigFactory, make_site: SiteFactory
) -> None:
    # Even an application built around the runner's check lets no one in with it.
    config = make_config(webservice={"admin_user": "restadmin", "admin_pass": ""})
    api = Api(make_site(config))
    empty = "Basic " + base64.b64encode(b"restadmin:").decode()
    assert not api.authorized(empty)


def test_start_refuses_an_empty_password(tmp_path: Path) -> None:
    """`posthorn start` stops before forking anything, naming the key, no traceback."""
    config_file = tmp_path / "posthorn.cfg"
    config_file.write_text(
        f"[paths]\nvar_dir: {tmp_path / 'var'}\n\n[webservice]\nadmin_pass:\n\n"
        "[runner.lmtp]\nstart: no\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "POSTHORN_CONFIG"}
    posthorn = str(Path(sys.executable).parent / "posthorn")
    for args in (["start", "--foreground"], ["start"]):
        result = subprocess.run(
            [posthorn, "-C", str(config_file), *args],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
        )  # fmt: skip
        assert result.returncode == 1
        assert "[webservice] admin_pass" in result.stderr
        assert "refusing to serve REST on 127.0.0.1 with an empty password" in result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "var" / "run" / "master.pid").exists()
