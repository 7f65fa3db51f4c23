"""The LMTP runner's own configuration checks: limits that would refuse every client."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from posthorn.config import Config, ConfigError
from posthorn.runners.lmtp import LMTPRunner
from posthorn.site import Site


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("runner.lmtp", "max_connections", "0"),
        ("runner.lmtp", "idle_timeout", "0s"),
        ("runner.lmtp", "pressure_idle_timeout", "0s"),
        ("mta", "max_recipients", "0"),
    ],
)
def test_limits_that_refuse_everyone_are_configuration_errors(
    make_config: Callable[..., Config],
    make_site: Callable[[Config], Site],
    section: str,
    key: str,
    value: str,
) -> None:
    site = make_site(make_config({section: {key: value}}))
    with pytest.raises(ConfigError, match=f"\\[{section}\\] {key}: must be more than 0"):
        LMTPRunner(site, "lmtp")
