"""``posthorn bans``."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from posthorn.model.bans import DatabaseBanManager
from posthorn.site import Site

Invoke = Callable[..., Result]


def test_site_and_list_bans(invoke: Invoke, cli_site: Site) -> None:
    cli_site.lists.create("dev@example.org")
    added = invoke("bans", "--add", "Spam@Example.net", "--add", r"^.*@junk\.example$")
    assert added.exit_code == 0, added.output
    assert "Banned on the site: spam@example.net" in added.output
    assert invoke("bans", "-l", "dev@example.org", "-a", "anne@example.org").exit_code == 0
    assert invoke("bans").output == "^.*@junk\\.example$\nspam@example.net\n"
    assert invoke("bans", "--list", "dev.example.org").output == "anne@example.org\n"
    bans = DatabaseBanManager.from_site(cli_site)
    assert bans.is_banned("x@junk.example", "dev.example.org")
    checked = invoke("bans", "-l", "dev@example.org", "--check", "x@junk.example")
    assert (checked.exit_code, checked.output) == (
        0,
        "x@junk.example is banned on dev.example.org\n",
    )
    assert invoke("bans", "--check", "anne@example.org").exit_code == 2
    removed = invoke("bans", "--remove", "spam@example.net")
    assert removed.exit_code == 0 and not bans.is_banned("spam@example.net")


def test_bad_bans_are_clear_errors(invoke: Invoke, cli_site: Site) -> None:
    invoke("bans", "--add", "a@example.org")
    for args, message in (
        (("--add", "a@example.org"), "Error: Address is already banned: a@example.org\n"),
        (("--add", "^(x"), "Error: not a valid regular expression: ^(x\n"),
        (("--remove", "b@example.org"), "Error: Email is not banned: b@example.org\n"),
        (("-l", "nope@example.org"), "Error: no such list: nope@example.org\n"),
    ):
        result = invoke("bans", *args)
        assert (result.exit_code, result.output) == (1, message), args
