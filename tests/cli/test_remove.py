"""``posthorn remove``."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from posthorn.site import Site

Invoke = Callable[..., Result]


def test_remove_with_yes(invoke: Invoke, cli_site: Site) -> None:
    cli_site.lists.create("dev@example.org")
    cli_site.lists.subscribe("dev@example.org", "anne@example.org")
    result = invoke("remove", "dev.example.org", "--yes")
    assert (result.exit_code, result.output) == (0, "Removed mailing list: dev@example.org\n")
    assert cli_site.lists.get("dev@example.org") is None
    assert cli_site.users.get_address("anne@example.org") is not None


def test_remove_asks_first(invoke: Invoke, cli_site: Site) -> None:
    cli_site.lists.create("dev@example.org")
    declined = invoke("remove", "dev@example.org", input="n\n")
    assert declined.exit_code == 1
    assert "Remove dev@example.org and its 0 members?" in declined.output
    assert cli_site.lists.get("dev@example.org") is not None
    accepted = invoke("remove", "dev@example.org", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert cli_site.lists.get("dev@example.org") is None


def test_an_unknown_list(invoke: Invoke) -> None:
    result = invoke("remove", "nope@example.org", "--yes")
    assert result.exit_code == 1
    assert result.output == "Error: no such list: nope@example.org\n"
