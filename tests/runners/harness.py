"""The runner tests' harness: a private site, a real master, and clean-up by pid.

Every process a test starts carries a unique token in its environment (runners inherit
it from the master), so the finalizer can find and kill each of them by pid -- even a
runner orphaned by a killed master -- whether the test passed or not.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from posthorn.config import Config, load_config
from posthorn.runstate import ProcessId
from tests.processes import START_DEADLINE
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
POSTHORN = str(Path(sys.executable).with_name("posthorn"))
SAMPLES = "tests.runners.sample_runners"
TOKEN_VARIABLE = "POSTHORN_TEST_TOKEN"


def alive(pid: int) -> bool:
    return ProcessId(pid, None).alive()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


class PosthornSite:
    """One private site: its configuration file, its var dir, and its processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.var = root / "var"
        self.config_file = root / "posthorn.cfg"
        self.token = uuid.uuid4().hex
        self.masters: list[subprocess.Popen[bytes]] = []
        self.configure({})

    def configure(
        self,
        runners: dict[str, dict[str, str]],
        master: dict[str, str] | None = None,
        extra: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """Write the site file: fast restarts for tests, then each [runner.NAME] and
        ``extra``'s sections (``queues``, say)."""
        sections: dict[str, dict[str, str]] = {
            "paths": {"var_dir": str(self.var)},
            "master": {
                "restart_pause": "100ms",
                "restart_pause_max": "400ms",
                "stop_timeout": "5s",
            },
        }
        sections["master"].update(master or {})
        # Built-in runners (lmtp, ...) stay off: each test runs exactly the runners it names.
        for name in self._builtin_runners():
            sections[f"runner.{name}"] = {"start": "no"}
        sections.update({f"runner.{name}": keys for name, keys in runners.items()})
        sections.update(extra or {})
        text = "".join(
            f"[{name}]\n" + "".join(f"{key}: {value}\n" for key, value in keys.items()) + "\n"
            for name, keys in sections.items()
        )
        self.config_file.write_text(text, encoding="utf-8")

    def _builtin_runners(self) -> list[str]:
        empty = self.root / "defaults.cfg"
        empty.write_text("", encoding="utf-8")
        return load_config(empty).named("runner")

    @property
    def config(self) -> Config:
        return load_config(self.config_file)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "POSTHORN_CONFIG"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env[TOKEN_VARIABLE] = self.token
        return env

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [POSTHORN, "-C", str(self.config_file), *args],
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.root,
            timeout=timeout,
        )

    def start(self) -> subprocess.Popen[bytes]:
        """Start a master in the foreground, its output going to a file."""
        output = open(self.root / f"master-{len(self.masters)}.out", "wb")  # noqa: SIM115
        with output:
            process = subprocess.Popen(
                [POSTHORN, "-C", str(self.config_file), "start", "--foreground"],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=self.env(),
                cwd=self.root,
            )
        self.masters.append(process)
        return process

    def state(self) -> dict[str, Any] | None:
        try:
            state = json.loads((self.var / "run" / "master.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) else None

    def runners(self, name: str | None = None) -> list[dict[str, Any]]:
        state = self.state() or {"runners": []}
        return [row for row in state["runners"] if name is None or row["name"] == name]

    def wait_running(
        self, count: int, name: str | None = None, timeout: float = START_DEADLINE
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` processes (of runner ``name``) run; return their rows.

        Mostly right after a start, so as long as a master may take to start.
        """

        def ready() -> list[dict[str, Any]] | None:
            rows = [r for r in self.runners(name) if r["state"] == "running" and r["pid"]]
            return rows if len(rows) == count else None

        return wait_for(ready, f"{count} running {name or 'runner'} processes", timeout)

    def log(self, name: str) -> str:
        path = self.var / "logs" / f"{name}.log"
        return path.read_text("utf-8") if path.exists() else ""

    def output(self, index: int = 0) -> str:
        return (self.root / f"master-{index}.out").read_text("utf-8", "replace")

    def records(self, name: str, kind: str) -> list[dict[str, Any]]:
        return read_jsonl(self.var / f"{name}-{kind}.jsonl")

    def tagged_pids(self) -> list[int]:
        """Every live process carrying this site's token: masters and runners."""
        marker = f"{TOKEN_VARIABLE}={self.token}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0") and alive(int(entry.name)):
                found.append(int(entry.name))
        return found

    def kill_everything(self) -> None:
        for pid in self.tagged_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for process in self.masters:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def sample(name: str) -> str:
    """The dotted path of a test runner class."""
    return f"{SAMPLES}:{name}"
