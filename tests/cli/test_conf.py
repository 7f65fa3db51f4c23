"""``posthorn conf`` and the CLI's handling of configuration errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from posthorn import __version__
from posthorn.cli import main


@pytest.fixture
def site_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("POSTHORN_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "posthorn.cfg"
    path.write_text("[mta]\nlmtp_port: 9124\n")
    return path


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_conf_prints_the_effective_configuration(site_file: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(site_file), "conf"])
    assert result.exit_code == 0, result.output
    assert "[mta]\nlmtp_host: 127.0.0.1\nlmtp_port: 9124\n" in result.output
    assert "[runner." not in result.output or "instances:" in result.output


def test_conf_one_key(site_file: Path) -> None:
    result = CliRunner().invoke(
        main, ["-C", str(site_file), "conf", "-s", "mta", "-k", "lmtp_port"]
    )
    assert (result.exit_code, result.output) == (0, "9124\n")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["conf", "-s", "nope"], "[nope]: no such section"),
        (["conf", "-s", "mta", "-k", "nope"], "[mta] nope: no such key"),
        (["conf", "-k", "x"], "--key needs --section"),
    ],
)
def test_conf_errors_are_one_line(site_file: Path, args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(main, ["-C", str(site_file), *args])
    assert result.exit_code != 0
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_a_malformed_site_file_is_reported_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cfg"
    bad.write_text("[mta]\nlmtp_port: eighty\n")
    result = CliRunner().invoke(main, ["-C", str(bad), "conf"])
    assert result.exit_code == 1
    assert f"{bad}: [mta] lmtp_port: expected a whole number" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_missing_site_file_is_reported(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(tmp_path / "absent.cfg"), "conf"])
    assert result.exit_code == 1
    assert "configuration file not found" in result.output
