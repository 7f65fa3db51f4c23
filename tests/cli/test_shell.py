"""``posthorn shell``: the scripted form, and the interactive prompt fed from stdin."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site

Invoke = Callable[..., Result]
NOT_CALLABLE = 42


def count_members(site: Site, mlist: IMailingList | None) -> str:
    """Called by ``--run``: what a repair script would look like."""
    assert mlist is not None
    site.lists.update(mlist, description="checked")
    return f"{mlist.fqdn_listname} has {len(site.lists.roster(mlist).members)} members"


def returns_nothing(site: Site, mlist: IMailingList | None) -> None:
    assert mlist is None


def test_run_calls_the_function_with_site_and_list(invoke: Invoke, cli_site: Site) -> None:
    cli_site.lists.create("dev@example.org")
    cli_site.lists.subscribe("dev@example.org", "anne@example.org")
    result = invoke("shell", "-l", "dev@example.org", "--run", f"{__name__}:count_members")
    assert (result.exit_code, result.output) == (0, "dev@example.org has 1 members\n")
    assert cli_site.lists.require("dev@example.org").description == "checked"
    quiet = invoke("shell", "--run", f"{__name__}.returns_nothing")
    assert (quiet.exit_code, quiet.output) == (0, "")


def test_run_errors(invoke: Invoke, cli_site: Site) -> None:
    missing = invoke("shell", "--run", "no.such.module:function")
    assert missing.exit_code == 1 and "cannot import 'no.such.module'" in missing.output
    not_callable = invoke("shell", "--run", f"{__name__}:NOT_CALLABLE")
    assert not_callable.exit_code == 1 and "NOT_CALLABLE is not callable" in not_callable.output
    unknown = invoke("shell", "-l", "nope@example.org", "--run", f"{__name__}:count_members")
    assert unknown.exit_code == 1 and "no such list: nope@example.org" in unknown.output
    assert "Traceback" not in missing.output + not_callable.output + unknown.output


def test_the_interactive_shell_has_site_and_mlist(invoke: Invoke, cli_site: Site) -> None:
    cli_site.lists.create("dev@example.org")
    result = invoke(
        "shell", "-l", "dev.example.org", input="print(mlist.list_id, type(site).__name__)\n"
    )
    assert result.exit_code == 0, result.output
    assert "dev.example.org Site" in result.output
