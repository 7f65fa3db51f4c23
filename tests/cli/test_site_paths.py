"""Paths follow the configuration file, and commands that only read never make a site.

Run as cron runs them: the real ``posthorn`` command from another folder.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.processes import posthorn_command


def posthorn(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "POSTHORN_CONFIG"}
    return subprocess.run(
        [*posthorn_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_relative_paths_follow_the_file_not_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "site" / "etc").mkdir(parents=True)
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    site_file = tmp_path / "site" / "etc" / "posthorn.cfg"
    site_file.write_text("[paths]\nvar_dir: ../var\nlog_dir: logs\n")
    created = posthorn(elsewhere, "-C", str(site_file), "create", "dev@example.org")
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "site" / "var" / "data" / "posthorn.db").is_file()
    assert not (elsewhere / "var").exists()
    listed = posthorn(elsewhere, "-C", str(site_file), "lists", "-q")
    assert listed.stdout == "dev@example.org\n"
    info = posthorn(elsewhere, "-C", str(site_file), "info").stdout
    assert f"var_dir: {tmp_path / 'site' / 'var'}\n" in info
    assert f"log_dir: {tmp_path / 'site' / 'etc' / 'logs'}\n" in info


def test_an_unset_var_dir_sits_beside_the_file(tmp_path: Path) -> None:
    site_file = tmp_path / "conf" / "posthorn.cfg"
    site_file.parent.mkdir()
    site_file.write_text("[mta]\nlmtp_port: 8124\n")
    info = posthorn(tmp_path, "-C", str(site_file), "info").stdout
    assert f"var_dir: {tmp_path / 'conf' / 'var'}\n" in info


@pytest.mark.parametrize(
    "args",
    [
        ("lists",),
        ("where", "<a@example.org>"),
        ("queues",),
        ("held", "dev@example.org"),
        ("members", "dev@example.org"),
        ("digests", "--send"),
    ],
)
def test_reading_commands_refuse_where_no_site_is(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = posthorn(tmp_path, *args)
    assert result.returncode == 1
    assert f"no Posthorn site at {tmp_path / 'var'}" in result.stderr
    assert f"no {tmp_path / 'etc' / 'posthorn.cfg'}" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_info_names_every_path_and_address_without_making_a_site(tmp_path: Path) -> None:
    site_file = tmp_path / "posthorn.cfg"
    site_file.write_text(
        "[paths]\nvar_dir: state\n\n[mta]\nlmtp_port: 8124\n\n"
        "[webservice]\nport: 8101\nadmin_user: ops\n"
    )
    result = posthorn(tmp_path, "-C", str(site_file), "info")
    assert result.returncode == 1
    for key in ("var_dir", "queue_dir", "log_dir", "lock_dir", "data_dir", "archive_dir"):
        assert f"{key}: {tmp_path / 'state'}" in result.stdout
    assert "lmtp: 127.0.0.1:8124\n" in result.stdout
    assert "rest: http://127.0.0.1:8101/3.1 (user ops)\n" in result.stdout
    assert f"no Posthorn site at {tmp_path / 'state'}" in result.stderr
    assert not (tmp_path / "state").exists()
