"""``posthorn header-matches``."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.site import Site

Invoke = Callable[..., Result]
LIST = "dev@example.org"


def test_add_list_move_and_remove(invoke: Invoke, cli_site: Site) -> None:
    cli_site.lists.create(LIST)
    first = invoke("header-matches", LIST, "--add", "X-Spam-Flag", "^yes", "--action", "discard")
    assert (first.exit_code, first.output) == (0, "Added at position 0: x-spam-flag: ^yes\n")
    invoke("header-matches", LIST, "-a", "X-Spam-Level", r"\*{5}", "--tag", "spam")
    added = invoke("header-matches", LIST, "-a", "Subject", "viagra", "--position", "0")
    assert added.output == "Added at position 0: subject: viagra\n"
    assert invoke("header-matches", LIST).output == (
        "  0  subject: viagra  -> default (the rule action)\n"
        "  1  x-spam-flag: ^yes  -> discard\n"
        "  2  x-spam-level: \\*{5}  -> default (the rule action)  [spam]\n"
    )
    assert invoke("header-matches", "dev.example.org", "--move", "2", "0").exit_code == 0
    assert invoke("header-matches", LIST, "--remove", "1").exit_code == 0
    matches = DatabaseHeaderMatches.from_site(cli_site).of("dev.example.org")
    assert [m.header for m in matches] == ["x-spam-level", "x-spam-flag"]
    assert invoke("header-matches", LIST, "--clear").exit_code == 0
    assert invoke("header-matches", LIST).output == ""


def test_bad_input_is_a_clear_error(invoke: Invoke, cli_site: Site) -> None:
    cli_site.lists.create(LIST)
    bad = invoke("header-matches", LIST, "--add", "X-A", "(")
    assert bad.exit_code == 1 and bad.output.startswith("Error: invalid pattern '(':")
    missing = invoke("header-matches", LIST, "--remove", "4")
    assert (missing.exit_code, missing.output) == (
        1,
        "Error: No header match at this position: 4\n",
    )
    alone = invoke("header-matches", LIST, "--tag", "x")
    assert alone.exit_code == 2 and "--action, --tag and --position go with --add" in alone.output
    assert invoke("header-matches", LIST, "-a", "X-A", "a", "--action", "bounce").exit_code == 2
