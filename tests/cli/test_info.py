"""``posthorn info`` tells an administrator where everything is."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from posthorn import __version__
from posthorn.cli import main


def test_info_shows_paths_databases_and_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSTHORN_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "posthorn.cfg"
    users = tmp_path / "users.db"
    (tmp_path / "state").mkdir()
    site.write_text(f"[paths]\nvar_dir: state\n\n[database]\nuser_url: sqlite:///{users}\n")
    result = CliRunner().invoke(main, ["-C", str(site), "info"])
    assert result.exit_code == 0, result.output
    assert f"Posthorn {__version__}" in result.output
    assert "site: Posthorn" in result.output
    assert f"config file: {site}" in result.output
    assert f"queue_dir: {tmp_path / 'state' / 'queue'}" in result.output
    assert f"database (user): sqlite:///{users}" in result.output
    assert f"database (list): sqlite:///{tmp_path}/state/data/posthorn.db" in result.output
    # It only reads: naming the databases does not make them.
    assert not users.exists()
