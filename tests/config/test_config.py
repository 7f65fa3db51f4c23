"""The configuration: schema defaults, the site file overlay, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from posthorn.config import ConfigError, load_config
from posthorn.config.types import parse_duration, parse_size


@pytest.fixture(autouse=True)
def _no_ambient_site_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTHORN_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_site_file(tmp_path: Path) -> None:
    config = load_config()
    assert config.site_file is None
    assert config["mta"].get_int("lmtp_port") == 8024
    assert config.path("var_dir") == tmp_path / "var"
    assert config.path("queue_dir") == tmp_path / "var" / "queue"
    assert config["database"].get_str("url") == f"sqlite:///{tmp_path}/var/data/posthorn.db"


def test_site_file_overrides_and_relative_paths(tmp_path: Path) -> None:
    site = tmp_path / "site" / "posthorn.cfg"
    site.parent.mkdir()
    write(site, "[paths]\nvar_dir: ../state\n\n[mta]\nlmtp_port = 9024\n")
    config = load_config(site)
    assert config["mta"].get_int("lmtp_port") == 9024
    assert config["mta"].source("lmtp_port") == str(site)
    assert config["mta"].source("smtp_port") == "<built-in>"
    # Relative paths resolve against the directory of the file that set them.
    assert config.path("var_dir") == tmp_path / "state"
    assert config.path("log_dir") == tmp_path / "state" / "logs"


def test_environment_variable_names_the_site_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = write(tmp_path / "env.cfg", "[posthorn]\nsite_name: From env\n")
    monkeypatch.setenv("POSTHORN_CONFIG", str(site))
    assert load_config()["posthorn"].get_str("site_name") == "From env"


def test_default_site_file_in_etc(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    write(tmp_path / "etc" / "posthorn.cfg", "[posthorn]\nsite_name: Local\n")
    config = load_config()
    assert config.site_file == tmp_path / "etc" / "posthorn.cfg"
    assert config["posthorn"].get_str("site_name") == "Local"


def test_runner_sections_follow_the_template(tmp_path: Path) -> None:
    site = write(tmp_path / "p.cfg", "[runner.custom]\nclass: my.pkg:Runner\ninstances: 4\n")
    config = load_config(site)
    assert "custom" in config.named("runner")
    section = config.runner("custom")
    assert section.get_int("instances") == 4
    assert section.get_bool("start") is True
    assert section.get_str("class") == "my.pkg:Runner"


@pytest.mark.parametrize(
    ("text", "section", "key", "fragment"),
    [
        ("[mta]\nlmtp_port: many\n", "mta", "lmtp_port", "whole number"),
        ("[mta]\nlmtp_port: 70000\n", "mta", "lmtp_port", "between 0 and 65535"),
        ("[mta]\nbogus: 1\n", "mta", "bogus", "unknown key"),
        ("[nonsense]\nx: 1\n", "nonsense", None, "unknown section"),
        ("[runner.x]\ninstances: 3\n", "runner.x", "instances", "power of two"),
        ("[runner.x]\nsleep_time: soon\n", "runner.x", "sleep_time", "duration"),
        ("[runner.x]\nstart: maybe\n", "runner.x", "start", "yes or no"),
        ("[runner.x]\nclass: not a path\n", "runner.x", "class", "import path"),
        ("[mta]\nmax_message_size: huge\n", "mta", "max_message_size", "size"),
        ("[database]\nurl: sqlite:///$nowhere/x.db\n", "database", "url", "$nowhere"),
    ],
)
def test_errors_name_file_section_and_key(
    tmp_path: Path, text: str, section: str, key: str | None, fragment: str
) -> None:
    site = write(tmp_path / "bad.cfg", text)
    with pytest.raises(ConfigError) as caught:
        load_config(site)
    error = caught.value
    assert error.file == str(site)
    assert error.section == section
    assert error.key == key
    assert fragment in str(error)
    assert str(site) in str(error)


def test_malformed_ini_names_the_file(tmp_path: Path) -> None:
    site = write(tmp_path / "broken.cfg", "this is not ini\n")
    with pytest.raises(ConfigError, match="not a valid INI file") as caught:
        load_config(site)
    assert caught.value.file == str(site)


def test_missing_site_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.cfg")


def test_overrides_win_over_the_site_file(tmp_path: Path) -> None:
    site = write(tmp_path / "p.cfg", "[mta]\nlmtp_port: 9000\n")
    config = load_config(site, overrides={"mta": {"lmtp_port": "9001"}})
    assert config["mta"].get_int("lmtp_port") == 9001


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("250ms", 0.25), ("1s", 1.0), ("2m", 120.0), ("1.5h", 5400.0), ("1d", 86400.0), ("3", 3.0)],
)
def test_durations_take_units(raw: str, seconds: float) -> None:
    assert parse_duration(raw) == pytest.approx(seconds)


@pytest.mark.parametrize(("raw", "size"), [("512", 512), ("1KB", 1024), ("40MB", 40 << 20)])
def test_sizes_take_units(raw: str, size: int) -> None:
    assert parse_size(raw) == size


def test_dump_shows_one_key_or_a_section() -> None:
    config = load_config(overrides={"mta": {"lmtp_port": "7000"}})
    assert config.dump("mta", "lmtp_port") == "7000"
    assert config.dump("mta").startswith("[mta]\nlmtp_host: 127.0.0.1\nlmtp_port: 7000\n")
    with pytest.raises(ConfigError, match="no such key"):
        config.dump("mta", "nope")
