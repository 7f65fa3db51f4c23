"""How many messages per second the LMTP runner accepts, durably, for 1, 4 and 16 clients.

A real master (``posthorn start --foreground``) runs only the LMTP runner, on a free
loopback port, with its var directory in a fresh temporary directory (``--dir`` picks
the file system: fsync costs differ a lot between tmpfs, SSDs and network disks).  Each
client holds one LMTP connection and sends a ~5 KB message to one list, one transaction
after another, for ``--seconds``; a message counts once its 250 has arrived, which the
runner sends only after the queue entry is fsynced.  Each level gets a fresh master.
``msgs/dir fsync`` is how many entries one directory fsync covered (group commit, from
the runner's log); ``cpu ms/msg`` the CPU (user and system, every thread) the LMTP
runner processes used per accepted message, ``loop ms/msg`` that of their event-loop
threads alone (from the log): on a loaded machine the rates fall, these much less.
``--pipelining`` has each client send MAIL, RCPT and DATA together when the runner
announces PIPELINING, as an MTA's LMTP client does (two round trips per message, not
four); without it, one command at a time.  ``--instances`` sets ``[runner.lmtp]
instances``; ``--profile DIR`` has the runner write its cProfile statistics there
($POSTHORN_PROFILE).  Prints figures, never pass/fail.

    .venv/bin/python bench/lmtp_bench.py [--seconds 3] [--clients 1 4 16] [--dir /tmp]
        [--instances N] [--profile DIR] [--pipelining]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from posthorn.config import load_config
from posthorn.site import Site

LIST = "bench@example.org"
BODY = b"".join(
    b"Line %04d of a benchmark message, about seventy bytes long.......\r\n" % i for i in range(70)
)
MESSAGE = b"From: alice@example.com\r\nTo: bench@example.org\r\nSubject: bench\r\n\r\n" + BODY
START_DEADLINE = 20.0
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "var"


class Client:
    """A minimal LMTP client on asyncio streams (smtplib would measure itself)."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pipelining: bool
    ) -> None:
        self.reader, self.writer = reader, writer
        self.pipelining = pipelining

    @classmethod
    async def connect(cls, port: int, pipelining: bool) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer, False)
        await client.reply()
        client.writer.write(b"LHLO bench\r\n")
        announced = []
        while (line := await client.reader.readline())[3:4] == b"-":
            announced.append(line[4:].strip().upper())
        client.pipelining = pipelining and b"PIPELINING" in announced
        return client

    async def reply(self) -> bytes:
        while True:
            line = await self.reader.readline()
            if not line:
                raise ConnectionError("server closed the connection")
            if line[3:4] != b"-":
                return line

    async def command(self, line: bytes) -> bytes:
        self.writer.write(line + b"\r\n")
        return await self.reply()

    async def send(self) -> bool:
        if self.pipelining:
            # As an MTA's LMTP client does when PIPELINING is announced.
            self.writer.write(
                b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<%s>\r\nDATA\r\n" % LIST.encode()
            )
            replies = [await self.reply() for _ in range(3)]
            if not replies[2].startswith(b"354"):
                return False
            self.writer.write(MESSAGE + b".\r\n")
            return (await self.reply()).startswith(b"250")
        await self.command(b"MAIL FROM:<alice@example.com>")
        if not (await self.command(b"RCPT TO:<%s>" % LIST.encode())).startswith(b"250"):
            return False
        await self.command(b"DATA")
        self.writer.write(MESSAGE + b".\r\n")
        return (await self.reply()).startswith(b"250")

    async def close(self) -> None:
        self.writer.write(b"QUIT\r\n")
        self.writer.close()


async def load(
    port: int, clients: int, seconds: float, pipelining: bool = False
) -> tuple[int, list[float]]:
    """Run ``clients`` senders for ``seconds``; return messages accepted and latencies."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def sender() -> int:
        client = await Client.connect(port, pipelining)
        accepted = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            if await client.send():
                accepted += 1
                latencies.append(time.monotonic() - started)
        await client.close()
        return accepted

    counts = await asyncio.gather(*(sender() for _ in range(clients)))
    return sum(counts), latencies


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_master(tmp: Path, port: int, clients: int, instances: int) -> subprocess.Popen[bytes]:
    var = tmp / "var"
    defaults = load_config(None, overrides={"paths": {"var_dir": str(var)}})
    lines = [f"[paths]\nvar_dir: {var}\n", f"[mta]\nlmtp_port: {port}\n"]
    lines.append(
        f"[runner.lmtp]\nmax_connections: {max(clients * 2, 32)}\nhostname: bench\n"
        f"instances: {instances}\n"
    )
    lines += [
        f"[runner.{name}]\nstart: no\n" for name in defaults.named("runner") if name != "lmtp"
    ]
    site_file = tmp / "posthorn.cfg"
    site_file.write_text("\n".join(lines))
    site = Site(load_config(site_file))
    site.databases.upgrade()
    site.lists.create(LIST)
    site.close()
    script = Path(sys.executable).parent / "posthorn"
    command = [str(script) if script.exists() else "posthorn", "-C", str(site_file)]
    process = subprocess.Popen(
        [*command, "start", "--foreground"],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"220"):
                    return process
        except OSError:
            time.sleep(0.05)
    stop_master(process)
    raise SystemExit("the master did not start; see the logs in " + str(var / "logs"))


def stop_master(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


def runner_cpu(master: subprocess.Popen[bytes]) -> float:
    """CPU seconds (user and system) of every process below the master: the runners."""
    total = 0.0
    for child in psutil.Process(master.pid).children(recursive=True):
        try:
            used = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += used.user + used.system
    return total


def run_level(
    tmp: Path, clients: int, seconds: float, instances: int, pipelining: bool
) -> tuple[float, float, float, str, float, float]:
    """One level on a fresh master in ``tmp``: msgs/s, p50 and p99 ms, fsync sharing,
    CPU ms/msg of the runners and of their event loops."""
    port = free_port()
    process = start_master(tmp, port, clients, instances)
    try:
        before = runner_cpu(process)
        accepted, latencies = asyncio.run(load(port, clients, seconds, pipelining))
        cpu = runner_cpu(process) - before
    finally:
        stop_master(process)
    logs = "".join(path.read_text() for path in (tmp / "var" / "logs").glob("lmtp*.log"))
    found = re.findall(
        r"stored (\d+) entries with (\d+) directory fsyncs; event loop CPU ([\d.]+) ms", logs
    )
    stored, syncs = sum(int(f[0]) for f in found), sum(int(f[1]) for f in found)
    sharing = f"{stored / max(syncs, 1):.1f}" if found else "?"
    loop = sum(int(f[0]) * float(f[2]) for f in found) / max(stored, 1)
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0.0
    p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0.0
    return accepted / seconds, p50, p99, sharing, cpu * 1000 / max(accepted, 1), loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per concurrency level")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where the var goes")
    parser.add_argument("--instances", type=int, default=1, help="[runner.lmtp] instances")
    parser.add_argument("--profile", type=Path, default=None, help="runners write cProfile here")
    parser.add_argument(
        "--pipelining", action="store_true", help="send MAIL, RCPT and DATA together"
    )
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        os.environ["POSTHORN_PROFILE"] = str(args.profile.resolve())
    args.dir.mkdir(parents=True, exist_ok=True)
    where = str(args.dir)
    fs = subprocess.run(["df", "-T", where], capture_output=True, text=True, check=False).stdout
    print(f"queue in {where} on: {fs.splitlines()[-1] if fs else '?'}")
    print(
        f"message: {len(MESSAGE)} bytes, one recipient; fsync on; {os.cpu_count()} CPUs; "
        f"{args.instances} LMTP runner(s); {'pipelining' if args.pipelining else 'lockstep'}"
        f" client; load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'clients':>7} {'msgs/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'msgs/dir fsync':>15}"
        f" {'cpu ms/msg':>11} {'loop ms/msg':>12}"
    )
    used: list[Path] = []
    try:
        for clients in args.clients:
            used.append(Path(tempfile.mkdtemp(prefix="lmtp-bench-", dir=args.dir)))
            rate, p50, p99, sharing, cpu, loop = run_level(
                used[-1], clients, args.seconds, args.instances, args.pipelining
            )
            print(
                f"{clients:>7} {rate:>9.0f} {p50:>8.2f} {p99:>8.2f} {sharing:>15} {cpu:>11.2f}"
                f" {loop:>12.2f}"
            )
    finally:
        for tmp in used:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
