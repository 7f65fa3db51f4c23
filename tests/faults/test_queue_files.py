"""Damaged queue files, foreign ones, and a full disk under the incoming queue.

A truncated or garbage entry, one owned by another user (nobody) and one writable by
others (0666) are dropped into a running site's incoming queue: each is moved to
``bad`` with a log line naming why, and the posts around them flow.  A queue file is a
pickle, so a file someone else could have written is never unpickled.

Disk full: the incoming queue lives on a 256 KB tmpfs; posts that do not fit are
answered 452 at LMTP (the MTA keeps them and retries) and no temporary file is
left behind.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import subprocess
from pathlib import Path

import pytest

from posthorn.queues.entry import encode
from tests.faults.stack import Poster, build, make_post
from tests.waiting import wait_for

NOBODY = 65534


def _entry(mid: str) -> bytes:
    return encode(make_post(mid, 0), {"list_id": "chaos.example.org", "to_list": True})


def test_damaged_and_foreign_entries_go_to_bad(tmp_path: Path) -> None:
    stack = build(tmp_path, 2)
    try:
        stack.start()
        incoming = stack.var_dir / "queue" / "incoming"
        whole = _entry("<whole@example.net>")
        files = {
            "truncated": whole[: len(whole) // 2],
            "garbage": b"posthorn-queue 1\n\x80\x05not a pickle at all",
            "foreign": whole,
            "shared": whole,
        }
        # Each file is made outside the queue and renamed in whole: the runner's start-up
        # tidy removes a ``.tmp`` it finds in its queue, and may still be running.
        for n, (label, content) in enumerate(files.items()):
            path = tmp_path / f"{label}.tmp"
            path.write_bytes(content)
            path.chmod(0o600)
            if label == "foreign":
                os.chown(path, NOBODY, NOBODY)
            if label == "shared":
                path.chmod(0o666)
            path.rename(incoming / f"0000000000000000000{n}+{label}.pck")
        poster = Poster(stack.lmtp_port)
        for n in range(3):
            poster.post(n)
        assert stack.wait_delivered(poster.accepted, 30).missing == []
        wait_for(lambda: len(stack.queue_files("bad")) == 4, "four entries in bad")
        log = stack.log("incoming")
        assert log.count("bad entry") == 4
        assert "truncated" in log and "owned by uid 65534" in log and "mode 0666" in log
        assert stack.queue_files("incoming") == []
        assert stack.runner_pids().get("incoming/0")
        print("bad entries:", [line.split(": ", 2)[-1] for line in log.splitlines()
                               if "bad entry" in line])  # fmt: skip
    finally:
        stack.stop()
        stack.sink.stop()


def test_disk_full_under_incoming_answers_452(tmp_path: Path) -> None:
    stack = build(tmp_path, 2)
    incoming = stack.var_dir / "queue" / "incoming"
    incoming.mkdir(parents=True, mode=0o700, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(incoming)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        stack.sink.stop()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        # Keep incoming from draining the queue: the disk must stay full.
        text = stack.site_file.read_text().replace(
            "[runner.incoming]\nstart: yes", "[runner.incoming]\nstart: no"
        )
        stack.site_file.write_text(text)
        stack.start()
        big = make_post("<big-{}@example.net>", 0) + b"x" * 60_000 + b"\r\n"
        codes = []
        for n in range(8):
            body = big.replace(b"{}", str(n).encode())
            try:
                with smtplib.LMTP("127.0.0.1", stack.lmtp_port, timeout=10) as lmtp:
                    lmtp.sendmail("poster@example.net", ["chaos@example.org"], body)
                codes.append(250)
            except smtplib.SMTPResponseException as error:
                codes.append(error.smtp_code)
        print("disk full: LMTP replies", codes)
        assert 250 in codes and 452 in codes
        assert all(code in (250, 452) for code in codes)
        leftovers = [p.name for p in incoming.iterdir() if not p.name.endswith(".pck")]
        assert leftovers == []
    finally:
        stack.stop()
        stack.sink.stop()
        subprocess.run(["umount", str(incoming)], check=False)
        shutil.rmtree(incoming, ignore_errors=True)
