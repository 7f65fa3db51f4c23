"""The tools a Mailman or Postfix administrator reaches for: inject, findmember,
syncmembers, version, ``conf -n`` and the one layout of listings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from posthorn import __version__
from posthorn.queues import Switchboard
from posthorn.site import Site

Invoke = Callable[..., Result]
LIST = "dev@example.org"
POST = b"From: anne@example.com\nTo: dev@example.org\nSubject: hi\n\nHello\n"


def test_version(invoke: Invoke) -> None:
    assert invoke("version").output == f"Posthorn {__version__}\n"


def test_conf_n_shows_only_what_differs(site_file: Path, invoke: Invoke) -> None:
    with site_file.open("a") as out:
        out.write("\n[mta]\nlmtp_port: 8024\nsmtp_port: 2525\n")
    result = invoke("conf", "-n")
    assert result.exit_code == 0, result.output
    sections = [line for line in result.output.splitlines() if line.startswith("[")]
    assert sections == ["[paths]", "[mta]"]
    assert "smtp_port: 2525" in result.output
    assert "lmtp_port" not in result.output and "queue_dir" not in result.output


def test_inject_queues_for_the_list(tmp_path: Path, cli_site: Site, invoke: Invoke) -> None:
    mlist = cli_site.lists.create(LIST)
    post = tmp_path / "post.eml"
    post.write_bytes(POST)
    result = invoke("inject", LIST, str(post))
    assert result.exit_code == 0, result.output
    assert "in incoming for dev@example.org" in result.output
    from_stdin = invoke("inject", "--queue", "pipeline", LIST, input=POST.decode())
    assert from_stdin.exit_code == 0, from_stdin.output
    root = cli_site.config.path("queue_dir")
    with Switchboard(root / "incoming") as board:
        (entry,) = board.files
        raw, meta = board.dequeue_raw(entry)
    assert raw == POST and meta["list_id"] == mlist.list_id and meta["to_list"] is True
    assert len(list((root / "pipeline").glob("*.pck"))) == 1
    unknown = invoke("inject", "--queue", "nowhere", LIST, str(post))
    assert unknown.exit_code == 1 and "no queue 'nowhere'" in unknown.output
    headless = invoke("inject", LIST, input="just words\n")
    assert headless.exit_code == 1 and "no headers" in headless.output
    assert invoke("inject", "nolist@example.org", str(post)).exit_code == 1


def test_findmember_across_lists(cli_site: Site, invoke: Invoke) -> None:
    for name in (LIST, "ops@example.org"):
        cli_site.lists.create(name)
        cli_site.lists.subscribe(name, "anne@example.com")
    cli_site.lists.subscribe(LIST, "bob@example.com", role="owner")
    result = invoke("findmember", "^ANNE@")
    assert result.output.splitlines() == [
        "email\tlist_id\trole",
        "anne@example.com\tdev.example.org\tmember",
        "anne@example.com\tops.example.org\tmember",
    ]
    rows = json.loads(invoke("findmember", "--role", "owner", "--json", "example").output)
    assert rows == [{"email": "bob@example.com", "list_id": "dev.example.org", "role": "owner"}]
    assert invoke("findmember", "nobody").exit_code == 1
    bad = invoke("findmember", "(")
    assert bad.exit_code == 1 and "not a regular expression" in bad.output


def test_syncmembers_adds_and_removes_to_match(
    tmp_path: Path, cli_site: Site, invoke: Invoke
) -> None:
    cli_site.lists.create(LIST)
    for email in ("anne@example.com", "bob@example.com"):
        cli_site.lists.subscribe(LIST, email)
    wanted = tmp_path / "members.txt"
    wanted.write_text("# the team\nBob <BOB@example.com>\n\nCarol <carol@example.com>\n")

    def members() -> list[str]:
        return sorted(m.email for m in cli_site.lists.find_members(role="member"))

    dry = invoke("syncmembers", "--dry-run", LIST, str(wanted))
    assert dry.exit_code == 0, dry.output
    assert "add: Carol <carol@example.com>" in dry.output
    assert "remove: anne@example.com" in dry.output and "nothing changed" in dry.output
    assert members() == ["anne@example.com", "bob@example.com"]

    done = invoke("syncmembers", LIST, str(wanted))
    assert done.exit_code == 0, done.output
    assert "1 added, 1 removed, 1 unchanged" in done.output
    assert members() == ["bob@example.com", "carol@example.com"]

    wanted.write_text("carol@example.com\nnot an address\n")
    refused = invoke("syncmembers", LIST, str(wanted))
    assert refused.exit_code == 1 and "line 2:" in refused.output
    assert members() == ["bob@example.com", "carol@example.com"]


def test_held_has_a_header_and_json(cli_site: Site, invoke: Invoke) -> None:
    cli_site.lists.create(LIST)
    empty = invoke("held", LIST)
    assert empty.exit_code == 0
    assert empty.output.splitlines()[0] == "id\tdate\tsender\tsubject\treason"
    assert json.loads(invoke("held", "--json", LIST).output) == []
    assert json.loads(invoke("requests", "--json", LIST).output) == []
