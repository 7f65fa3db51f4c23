"""What a large post costs each runner in memory, read from /proc, and such a post.

``RunnerMemory`` finds the runners of a master from its state file.  ``reset()`` clears
each runner's peak resident size (``VmHWM``, by writing 5 to ``/proc/PID/clear_refs``)
and notes its resident size now; ``extra()`` is then, per runner, how far its peak rose
above that since: the memory one message cost it, whatever the allocator keeps after.
``site_pss`` is the proportional set size of the master and of each runner, the share
of shared pages split between the processes that map them, so that the figures add up
to what the whole site costs the machine; ``site_memory`` gives each process's private
memory too (its unique set size: the pages only it maps, most of them pages of the
master's that it wrote to and so copied).
``large_post`` is a realistic big post: a short text and a base64 attachment.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from pathlib import Path

__all__ = ["RunnerMemory", "large_post", "site_memory", "site_pss", "site_settings"]

MIB = 2**20


def _status(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/PID/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no {field} for process {pid}")


class RunnerMemory:
    """The running runners of one master, by name, and their peak memory."""

    def __init__(self, var_dir: Path) -> None:
        self.state_file = var_dir / "run" / "master.json"
        self._baseline: dict[str, tuple[int, int]] = {}

    def pids(self) -> dict[str, int]:
        state = json.loads(self.state_file.read_text())
        found = {}
        for runner in state["runners"]:
            if runner.get("pid"):
                name = str(runner["name"])
                if runner.get("count", 1) > 1:
                    name = f"{name}.{runner['slice']}"
                found[name] = int(runner["pid"])
        return found

    def reset(self) -> None:
        self._baseline = {}
        for name, pid in self.pids().items():
            with contextlib.suppress(OSError, LookupError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")
                self._baseline[name] = (pid, _status(pid, "VmRSS"))

    def extra(self) -> dict[str, int]:
        """Per runner, bytes its peak rose above its size at ``reset()``."""
        rises = {}
        for name, (pid, before) in self._baseline.items():
            with contextlib.suppress(OSError, LookupError):
                rises[name] = max(_status(pid, "VmHWM") - before, 0)
        return rises


def site_pss(master_pid: int, var_dir: Path) -> dict[str, int]:
    """The PSS in bytes of the master (as ``master``) and of each of its runners, by name."""
    return {name: pss for name, (pss, _) in site_memory(master_pid, var_dir).items()}


def site_memory(master_pid: int, var_dir: Path) -> dict[str, tuple[int, int]]:
    """The PSS and the private memory (USS) in bytes of the master (as ``master``) and
    of each of its runners, by name."""
    import psutil

    pids = {"master": master_pid, **RunnerMemory(var_dir).pids()}
    found = {}
    for name, pid in pids.items():
        with contextlib.suppress(psutil.Error):
            info = psutil.Process(pid).memory_full_info()
            found[name] = (int(info.pss), int(info.uss))
    return found


def large_post(list_address: str, size: int, tag: str, payload: bytes | None = None) -> bytes:
    """A post of about ``size`` bytes: text, then ``payload`` (random bytes) in base64."""
    if payload is None:
        payload = os.urandom(size * 3 // 4)
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    head = (
        f"From: poster@example.net\r\nTo: {list_address}\r\nSubject: large post {tag}\r\n"
        f"Message-ID: <large-{tag}-{os.getpid()}@example.net>\r\nX-Bench: {tag}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="large-post"\r\n\r\n'
        "--large-post\r\nContent-Type: text/plain\r\n\r\nThe data, attached.\r\n"
        "--large-post\r\nContent-Type: application/octet-stream\r\n"
        'Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="data"\r\n'
        "\r\n"
    ).encode()
    return head + encoded + b"--large-post--\r\n"


def site_settings() -> dict[str, dict[str, object]]:
    """Sections for ``write_site_config``: big messages in, every archived post kept."""
    return {
        "mta": {"max_message_size": "64MB"},
        "archiver.prototype": {"enable": "yes"},
    }
