"""``posthorn archivers``: site status, per-list switches."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from posthorn.archivers.status import ArchiveStatus
from posthorn.site import Site

Invoke = Callable[..., Result]


def test_status_and_per_list_switches(
    site_file: Path, invoke: Invoke, cli_site: Site, var_dir: Path
) -> None:
    with site_file.open("a") as out:
        out.write("[archiver.prototype]\nenable: yes\n[archiver.lmtp]\nenable: yes\n")
    cli_site.lists.create("dev@example.org", owners=["owner@example.org"])
    ArchiveStatus(var_dir / "run" / "archivers.json").record({"lmtp": "ConnectionRefused"})
    result = invoke("archivers", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["queue_depth"] == 0
    assert report["archivers"]["prototype"]["enabled"] is True
    assert report["archivers"]["command"]["enabled"] is False
    assert report["archivers"]["lmtp"]["last_error"] == "ConnectionRefused"
    assert "last error" in invoke("archivers").output
    result = invoke("archivers", "dev@example.org", "--disable", "lmtp")
    assert result.exit_code == 0, result.output
    assert "lmtp: off" in result.output and "prototype: on" in result.output
    result = invoke("archivers", "dev.example.org", "--enable", "lmtp", "--json")
    assert json.loads(result.output)["archivers"] == {"lmtp": True, "prototype": True}
    result = invoke("archivers", "dev@example.org", "--disable", "command")
    assert result.exit_code == 1 and "not enabled for the site: command" in result.output
