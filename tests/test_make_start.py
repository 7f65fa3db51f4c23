"""``make start`` as a newcomer runs it: quiet, quick the second time, and telling
where everything is at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import free_port, posthorn_command
from tests.sites import write_site_config

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def make(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(["make", "-s", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_a_repeated_make_venv_installs_nothing_and_says_nothing() -> None:
    first = make("venv")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Warning" not in first.stdout + first.stderr
    started = time.monotonic()
    again = make("venv")
    assert again.returncode == 0 and again.stdout + again.stderr == ""
    assert time.monotonic() - started < 5


def test_the_data_folders_install_without_setuptools_warnings(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert "is absent from the `packages` configuration" not in built.stdout + built.stderr


def test_start_ends_with_a_summary(tmp_path: Path) -> None:
    lmtp_port, rest_port = free_port(), free_port()
    site_file = write_site_config(
        tmp_path, lmtp_port=lmtp_port, running=("lmtp", "rest"),
        extra_sections={"webservice": {"port": rest_port}},
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "POSTHORN_CONFIG"}
    command = [*posthorn_command(), "-C", str(site_file)]
    started = subprocess.run([*command, "start"], capture_output=True, text=True,
                             timeout=60, env=env, cwd=tmp_path)  # fmt: skip
    try:
        assert started.returncode == 0, started.stderr
        lines = started.stdout.splitlines()
        assert lines[0].startswith("Posthorn started (master pid ")
        assert f"  site:   {tmp_path / 'var'} (configuration: {site_file})" in lines
        assert any(line.startswith(f"  LMTP:   127.0.0.1:{lmtp_port} ") for line in lines)
        assert f"  REST:   http://127.0.0.1:{rest_port}/3.1 (user restadmin)" in lines
        assert any(line.startswith("  stop:   ") and "posthorn stop" in line for line in lines)
        assert any(line.startswith("  read:   README.md") for line in lines)
    finally:
        stopped = subprocess.run([*command, "stop"], capture_output=True, text=True,
                                 timeout=60, env=env, cwd=tmp_path)  # fmt: skip
        assert stopped.returncode == 0, stopped.stderr
