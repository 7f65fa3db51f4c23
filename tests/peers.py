"""Virtual environments for the real peers the tests run beside Posthorn.

GNU Mailman 3, Postorius and HyperKitty are separate programs with their own pinned
dependencies, so each gets its own virtual environment under ``.venv/peers/<name>``,
made once and reused while its requirements stay the same.  This is the one place that
knows how; a test that needs a peer calls ``peer_venv`` and is skipped, with pip's last
words as the reason, when the packages cannot be installed on this machine.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.processes import REPO

PEERS = REPO / ".venv" / "peers"
INSTALL_TIMEOUT = 900.0


def peer_venv(name: str, requirements: Sequence[str]) -> Path:
    """The ``bin`` folder of a virtual environment holding exactly ``requirements``."""
    home = PEERS / name
    stamp = home / ".requirements"
    wanted = "\n".join(sorted(requirements)) + "\n"
    PEERS.mkdir(parents=True, exist_ok=True)
    # Several test processes may ask for the same peer at once; one builds, the rest wait.
    with open(PEERS / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == wanted):
            _build(home, requirements)
            stamp.write_text(wanted)
    return home / "bin"


def _build(home: Path, requirements: Sequence[str]) -> None:
    if home.exists():
        subprocess.run(["rm", "-rf", str(home)], check=True)
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    command = [str(home / "bin" / "python"), "-m", "pip", "install", "-q", *requirements]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.skip(f"installing {' '.join(requirements)} took over {INSTALL_TIMEOUT:.0f} s")
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-3:]
        pytest.skip(f"cannot install {' '.join(requirements)}: {' / '.join(last)}")
