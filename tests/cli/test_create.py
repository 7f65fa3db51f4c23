"""``posthorn create``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result

from posthorn.site import Site

Invoke = Callable[..., Result]


def test_create_a_list_and_its_domain(invoke: Invoke, cli_site: Site) -> None:
    result = invoke(
        "create", "dev@example.org", "--owner", "anne@example.org", "-o", "bart@example.org"
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Created domain: example.org",
        "Created mailing list: dev@example.org",
        "Owner: anne@example.org",
        "Owner: bart@example.org",
    ]
    owners = cli_site.lists.roster("dev@example.org").owners
    assert [m.email for m in owners] == ["anne@example.org", "bart@example.org"]


def test_an_existing_domain_is_used(invoke: Invoke, cli_site: Site) -> None:
    cli_site.domains.add("example.org")
    result = invoke("create", "dev@example.org", "--no-domain")
    assert (result.exit_code, result.output) == (0, "Created mailing list: dev@example.org\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["../x@example.org"], "path separator"),
        (["a b@example.org"], "whitespace"),
        (["dev\x01@example.org"], "control"),
        (["dev"], "no @domain"),
        (["dev@localhost"], "at least one dot"),
        (["dev@example.org", "--owner", "not an address"], "whitespace"),
        (["dev@example.org", "--no-domain"], "no domain example.org"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(invoke: Invoke, args: list[str], message: str) -> None:
    result = invoke("create", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_a_duplicate_list(invoke: Invoke) -> None:
    assert invoke("create", "dev@example.org").exit_code == 0
    result = invoke("create", "DEV@example.org")
    assert result.exit_code == 1
    assert "list dev@example.org exists already" in result.output
    assert "Traceback" not in result.output
