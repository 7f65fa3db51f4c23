"""REST benchmark: member subscriptions per second, and reads of a 1,000-member roster page.

    python bench/rest_bench.py [--members N] [--reads N]

Starts a real master (``posthorn start --foreground``, only the rest runner) on a free
loopback port in a fresh temporary directory with the default SQLite database, then
talks HTTP/1.1 with keep-alive from one client thread, as a web front end would.
Prints figures only; it never passes or fails on time.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

PASSWORD = "bench-password"
AUTH = "Basic " + base64.b64encode(f"restadmin:{PASSWORD}".encode()).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_master(root: Path, port: int) -> subprocess.Popen[bytes]:
    config = root / "posthorn.cfg"
    config.write_text(
        f"[paths]\nvar_dir: {root / 'var'}\n\n[webservice]\nport: {port}\n"
        f"admin_pass: {PASSWORD}\n\n[runner.lmtp]\nstart: no\n"
    )
    posthorn = str(Path(sys.executable).parent / "posthorn")
    command = [posthorn, "-C", str(config), "start", "--foreground"]
    process = subprocess.Popen(
        command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the REST server did not come up")


def call(
    conn: http.client.HTTPConnection, method: str, path: str, data: dict[str, str] | None = None
) -> tuple[int, bytes]:
    body = urlencode(data).encode() if data is not None else None
    headers = {"Authorization": AUTH}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, "/3.1" + path, body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


def bench(conn: http.client.HTTPConnection, members: int, reads: int) -> None:
    assert call(conn, "POST", "/domains", {"mail_host": "bench.example.org"})[0] == 201
    assert call(conn, "POST", "/lists", {"fqdn_listname": "big@bench.example.org"})[0] == 201
    flags = {"pre_verified": "True", "pre_confirmed": "True", "pre_approved": "True"}
    # Measures the subscription itself, not the welcome message it would queue.
    flags["send_welcome_message"] = "False"
    started = time.perf_counter()
    for n in range(members):
        data = {"list_id": "big.bench.example.org", "subscriber": f"m{n:05d}@example.com"}
        status, body = call(conn, "POST", "/members", {**data, **flags})
        assert status == 201, body
    elapsed = time.perf_counter() - started
    rate = members / elapsed
    print(f"subscribe (POST members, immediate): {rate:8.1f} req/s ({members} in {elapsed:.2f} s)")
    path = f"/lists/big.bench.example.org/roster/member?count={members}&page=1"
    started = time.perf_counter()
    for _ in range(reads):
        status, body = call(conn, "GET", path)
        assert status == 200
    elapsed = time.perf_counter() - started
    size = len(json.loads(body)["entries"])
    rate, kib = reads / elapsed, len(body) / 1024
    print(f"roster page of {size} members (GET):   {rate:8.1f} req/s ({kib:.0f} KiB each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="posthorn-rest-bench-") as tmp:
        port = free_port()
        process = start_master(Path(tmp), port)
        try:
            bench(
                http.client.HTTPConnection("127.0.0.1", port, timeout=60), args.members, args.reads
            )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
