"""A real REST server for the module: ``posthorn start --foreground`` with only ``rest``.

The master runs in a subprocess on a private var dir and a free loopback port; the
fixtures wait for the port to answer (with a deadline, no fixed sleeps) and stop the
master by its PID at the end.  ``rest_site`` is a Site on the same configuration, for
arranging what the REST API cannot create (held messages) and checking what it did.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from posthorn.config import load_config
from posthorn.site import Site
from tests.waiting import wait_for

USER = "restadmin"
PASSWORD = "a-test-password"
MAX_BODY = 64 * 1024


@dataclass
class Server:
    """Where the REST API of a running master answers."""

    url: str  # with the version, as mailmanclient wants it
    config_file: Path
    var_dir: Path

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        auth: tuple[str, str] = (USER, PASSWORD),
    ) -> tuple[int, dict[str, str], Any]:
        """One raw HTTP request; (status, headers, parsed JSON body or None)."""
        req = urllib.request.Request(self.url + path, data=body, method=method)
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
        if body is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, headers, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, error.headers, error.read()
        lowered = {key.lower(): value for key, value in headers.items()}
        return status, lowered, json.loads(raw) if raw else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the master exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    wait_for(answers, f"an answer on port {port}", deadline)


@pytest.fixture(scope="module")
def rest_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("rest")
    port = free_port()
    config_file = root / "posthorn.cfg"
    config_file.write_text(
        f"[paths]\nvar_dir: {root / 'var'}\n\n"
        f"[webservice]\nport: {port}\nadmin_pass: {PASSWORD}\nmax_body_size: {MAX_BODY}\n\n"
        "[runner.lmtp]\nstart: no\n"
        # The tests inspect what moderation puts on the pipeline queue.
        "[runner.pipeline]\nstart: no\n[runner.outgoing]\nstart: no\n"
        # Two site-enabled archivers, for the per-list archivers resource.
        "[archiver.prototype]\nenable: yes\n[archiver.mail-archive]\nenable: yes\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "POSTHORN_CONFIG"}
    posthorn = str(Path(sys.executable).parent / "posthorn")
    command = [posthorn, "-C", str(config_file), "start"]
    process = subprocess.Popen(
        [*command, "--foreground"], cwd=root, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port, process, 20)
        yield Server(f"http://127.0.0.1:{port}/3.1", config_file, root / "var")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def rest_site(rest_server: Server) -> Iterator[Site]:
    site = Site(load_config(rest_server.config_file))
    yield site
    site.close()
