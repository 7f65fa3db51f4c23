"""The REST runner is safe by default: no public bind with a shipped or empty password."""

from __future__ import annotations

import pytest

from posthorn.config import ConfigError
from posthorn.runners.base import ExitCode, run_runner
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
    assert "refusing to serve on 192.0.2.1" in log


@pytest.mark.parametrize(
    ("host", "password"), [("127.0.0.1", "restpass"), ("::1", ""), ("0.0.0.0", "s3cret-enough")]
)
def test_allows_loopback_or_a_real_password(
    make_config: ConfigFactory, make_site: SiteFactory, host: str, password: str
) -> None:
    config = make_config(webservice={"hostname": host, "admin_pass": password})
    assert RestRunner(make_site(config), "rest").host == host
