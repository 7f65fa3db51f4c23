"""How long does importing a 100,000-member Mailman 2.1 list take, and in how much memory?

Writes a ``config.pck`` the way Mailman 2.1 did (``tests/importers/mailman21_pickle``)
with N members: a tenth take digests, some have delivery disabled, option bits and
real names set, and, as in 2.1, every member has a password (hashed on import).  Then
runs ``posthorn import mailman21`` as its own process twice on a fresh SQLite site:
the first run creates everything, the second finds nothing to change.  Prints each
run's wall time and peak resident memory (the process's maxrss).

    .venv/bin/python bench/import_bench.py [--members N] [--passwords FRACTION]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.importers.mailman21_pickle import sample_list, write_config_pck
from tests.processes import posthorn_command


def big_list(members: int, with_password: float) -> dict[bytes, Any]:
    attributes = sample_list()
    regular: dict[bytes, Any] = {}
    digest: dict[bytes, Any] = {}
    options: dict[bytes, int] = {}
    names: dict[bytes, bytes] = {}
    passwords: dict[bytes, bytes] = {}
    statuses: dict[bytes, tuple[int, float]] = {}
    every = round(1 / with_password) if with_password else 0
    for number in range(members):
        email = f"member{number:06d}@example.net".encode()
        (digest if number % 10 == 0 else regular)[email] = 0
        options[email] = (4 if number % 3 == 0 else 0) | (8 if number % 20 == 0 else 0)
        names[email] = f"Member {number}".encode()
        if every and number % every == 0:
            passwords[email] = f"pw{number:06d}".encode()
        if number % 50 == 0:
            statuses[email] = (2, 1262304000.0)
    attributes.update(
        {
            b"members": regular,
            b"digest_members": digest,
            b"user_options": options,
            b"usernames": names,
            b"passwords": passwords,
            b"delivery_status": statuses,
            b"language": {},
            b"bounce_info": {},
        }
    )
    return attributes


def timed_import(site_file: Path, config_pck: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB, and the summary table of one import run."""
    command = [*posthorn_command(), "-C", str(site_file), "import", "mailman21"]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "dev@example.org", str(config_pck)], stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the import failed ({process.returncode}):\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--passwords", type=float, default=1.0, help="share with a password")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        config_pck = write_config_pck(folder / "config.pck", big_list(args.members, args.passwords))
        written = time.perf_counter() - started
        size = config_pck.stat().st_size / 2**20
        print(f"config.pck: {args.members} members, {size:.1f} MiB, written in {written:.1f} s")
        site_file = folder / "posthorn.cfg"
        site_file.write_text(f"[paths]\nvar_dir: {folder / 'var'}\n")
        for label in ("first import", "second run (no changes)"):
            elapsed, peak, output = timed_import(site_file, config_pck)
            members = next(line for line in output.splitlines() if line.startswith("members"))
            print(f"{label}: {elapsed:.1f} s, peak RSS {peak:.0f} MiB | {members}")


if __name__ == "__main__":
    main()
