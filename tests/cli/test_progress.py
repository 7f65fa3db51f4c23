"""Long operations draw a progress bar on a terminal and stay quiet on a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from posthorn.site import Site
from tests.processes import posthorn_command

LIST = "dev@example.org"


def run(site_file: Path, *args: str, terminal: bool) -> tuple[int, str, str]:
    """``posthorn -C site_file ARGS``, standard error on a pseudo-terminal or a pipe."""
    env = {k: v for k, v in os.environ.items() if k != "POSTHORN_CONFIG"}
    env["COLUMNS"] = "100"
    leader, follower = pty.openpty() if terminal else (None, subprocess.PIPE)
    done = subprocess.run([*posthorn_command(), "-C", str(site_file), *args], env=env,
                          stdout=subprocess.PIPE, stderr=follower, timeout=120)  # fmt: skip
    if leader is None:
        return done.returncode, done.stdout.decode(), done.stderr.decode()
    assert isinstance(follower, int)
    os.close(follower)
    seen = b""
    try:
        while chunk := os.read(leader, 65536):
            seen += chunk
    except OSError:
        pass  # the terminal is closed once all is read
    os.close(leader)
    return done.returncode, done.stdout.decode(), seen.decode(errors="replace")


def test_mass_subscription_and_sync_show_progress_on_a_terminal_only(
    tmp_path: Path, site_file: Path, cli_site: Site
) -> None:
    cli_site.lists.create(LIST)
    addresses = tmp_path / "addresses.txt"
    addresses.write_text("".join(f"user{n}@example.com\n" for n in range(60)))
    code, out, err = run(site_file, "members", LIST, "--add", str(addresses), terminal=True)
    assert code == 0 and "60 added as member" in out
    assert "Subscribing" in err and "60/60" in err

    addresses.write_text("".join(f"user{n}@example.com\n" for n in range(30, 90)))
    code, out, err = run(site_file, "syncmembers", LIST, str(addresses), terminal=False)
    assert code == 0 and "30 added, 30 removed, 30 unchanged" in out
    assert err == ""

    addresses.write_text("".join(f"user{n}@example.com\n" for n in range(60, 120)))
    code, out, err = run(site_file, "syncmembers", LIST, str(addresses), terminal=True)
    assert code == 0, out + err
    assert "Subscribing" in err and "Unsubscribing" in err and "30/30" in err
