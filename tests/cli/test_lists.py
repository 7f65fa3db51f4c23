"""``posthorn lists``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result

from posthorn.site import Site

Invoke = Callable[..., Result]


def test_no_lists(invoke: Invoke) -> None:
    result = invoke("lists")
    assert (result.exit_code, result.output) == (0, "No matching mailing lists found\n")


def test_lists_filters_and_quiet(invoke: Invoke, cli_site: Site) -> None:
    for name in ("b@example.org", "a@example.org", "c@other.example"):
        cli_site.lists.create(name)
    cli_site.lists.update("a@example.org", description="The A team")
    cli_site.lists.update("b@example.org", advertised=False)
    result = invoke("lists")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "3 matching mailing lists found:",
        "a@example.org - The A team",
        "b@example.org",
        "c@other.example",
    ]
    quiet = invoke("lists", "--quiet", "--domain", "example.org")
    assert quiet.output.splitlines() == ["a@example.org", "b@example.org"]
    advertised = invoke("lists", "-q", "--advertised")
    assert advertised.output.splitlines() == ["a@example.org", "c@other.example"]


def test_an_unknown_domain(invoke: Invoke) -> None:
    result = invoke("lists", "--domain", "nope.example")
    assert (result.exit_code, result.output) == (1, "Error: no domain nope.example\n")


def test_the_site_a_command_built_is_closed_when_it_ends(
    invoke: Invoke, cli_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[Site] = []
    close = Site.close

    def recording(self: Site) -> None:
        closed.append(self)
        close(self)

    monkeypatch.setattr(Site, "close", recording)
    assert invoke("lists").exit_code == 0
    assert len(closed) == 1 and closed[0] is not cli_site


def test_settings_sets_the_news_gateway(invoke: Invoke, cli_site: Site) -> None:
    cli_site.lists.create("dev@example.org")
    result = invoke("settings", "dev@example.org", "--set", "gateway_to_news=true")
    assert result.exit_code == 0, result.output
    assert cli_site.lists.require("dev@example.org").gateway_to_news is True
