"""``posthorn members``: show, add from a file or stdin, delete, with per-line errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from posthorn.site import Site

Invoke = Callable[..., Result]


@pytest.fixture
def site(cli_site: Site) -> Site:
    cli_site.lists.create("dev@example.org")
    return cli_site


def test_add_from_a_file_and_show(invoke: Invoke, site: Site, tmp_path: Path) -> None:
    source = tmp_path / "add.txt"
    source.write_text(
        "# new members\nAnne Person <anne@example.org>\n\nbart@example.org\n", encoding="utf-8"
    )
    result = invoke("members", "dev@example.org", "--add", str(source))
    assert (result.exit_code, result.output) == (0, "dev@example.org: 2 added as member\n")
    shown = invoke("members", "dev.example.org")
    assert shown.output.splitlines() == ["Anne Person <anne@example.org>", "bart@example.org"]


def test_bad_lines_are_reported_and_the_rest_added(invoke: Invoke, site: Site) -> None:
    lines = (
        "anne@example.org\nnot an address\nx\x01@example.org\nanne@example.org\nbart@example.org\n"
    )
    result = invoke("members", "dev@example.org", "--add", "-", input=lines)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "line 2: 'not an address': whitespace" in result.stderr
    assert "line 3: " in result.stderr and "control" in result.stderr
    assert "line 4: anne@example.org is already a member of dev.example.org" in result.stderr
    assert "dev@example.org: 2 added as member" in result.stdout
    assert "Error: 3 lines failed" in result.stderr
    assert [m.email for m in site.lists.roster("dev@example.org").members] == [
        "anne@example.org",
        "bart@example.org",
    ]


def test_roles_digests_and_nomail(invoke: Invoke, site: Site) -> None:
    assert (
        invoke(
            "members", "dev@example.org", "-a", "-", "--role", "owner", input="o@example.org\n"
        ).exit_code
        == 0
    )
    assert (
        invoke(
            "members", "dev@example.org", "-a", "-", "--digest", "mime", input="d@example.org\n"
        ).exit_code
        == 0
    )
    assert (
        invoke(
            "members", "dev@example.org", "-a", "-", "--nomail", input="n@example.org\n"
        ).exit_code
        == 0
    )
    assert invoke("members", "dev@example.org", "-a", "-", input="r@example.org\n").exit_code == 0
    show = lambda *args: invoke("members", "dev@example.org", *args).output.splitlines()  # noqa: E731
    assert show() == ["d@example.org", "n@example.org", "r@example.org"]
    assert show("--role", "owner") == ["o@example.org"]
    assert show("--regular") == ["n@example.org", "r@example.org"]
    assert show("--digest", "any") == ["d@example.org"]
    assert show("--digest", "plaintext") == []
    assert show("--nomail") == ["n@example.org"]


def test_delete(invoke: Invoke, site: Site) -> None:
    site.lists.subscribe("dev@example.org", "anne@example.org")
    result = invoke(
        "members",
        "dev@example.org",
        "--delete",
        "-",
        input="Anne <anne@example.org>\nzed@example.org\n",
    )
    assert result.exit_code == 1
    assert "line 2: zed@example.org is not a member of dev.example.org" in result.stderr
    assert "dev@example.org: 1 removed as member" in result.stdout
    assert site.lists.roster("dev@example.org").members == []


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["nope@example.org"], "Error: no such list: nope@example.org", 1),
        (["dev@example.org", "--role", "boss"], "Invalid value for '-r' / '--role'", 2),
        (["dev@example.org", "--add", "-", "--delete", "-"], "cannot be used together", 2),
        (["dev@example.org", "--regular", "--digest", "mime"], "cannot be used together", 2),
        (["dev@example.org", "--add", "-", "--digest", "any"], "needs a digest kind", 2),
        (["dev@example.org", "--add", "/no/such/file"], "No such file", 2),
    ],
)
def test_usage_errors(invoke: Invoke, site: Site, args: list[str], message: str, code: int) -> None:
    result = invoke("members", *args, input="")
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_file_not_in_utf8_is_one_line_of_error(
    invoke: Invoke, site: Site, tmp_path: Path
) -> None:
    source = tmp_path / "latin1.txt"
    source.write_bytes("anne@example.org\nRen\xe9 <rene@example.org>\n".encode("latin-1"))
    result = invoke("members", "dev@example.org", "--add", str(source))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: ") and "UTF-8" in result.stderr
    assert len(result.stderr.splitlines()) == 1
