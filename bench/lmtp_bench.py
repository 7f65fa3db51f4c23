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
``client ms/msg`` is the CPU the sending client used per message: on two cores the
client competes with the runner for them.  ``create us`` is the CPU of creating an empty
file in the level's folder, just before: on ext4 without a journal, creating a file
walks the inodes of its block group freed in the last minutes (by an earlier run's
clean-up, say), which can cost a millisecond per file and dominate every other figure.
So each level's folder is made in a folder marked ``chattr +T``, which has ext4 put it
in a block group of its own; ``--no-spread`` leaves them where ext4 puts them.

``--driver`` picks the clients, one row each per level: ``python`` (this script's own
asyncio client, one command at a time), ``pipelining`` (the same, sending MAIL, RCPT
and DATA together when the runner announces PIPELINING, as an MTA's LMTP client does:
two round trips per message, not four; ``--pipelining`` is short for it) and
``smtp-source`` (Postfix's LMTP test client, written in C like the MTA, one command at a
time; ``apt-get install postfix`` brings it, ``--smtp-source PATH`` names another copy).
Installed with no configuration, that package also puts a ``postmap`` on the PATH that
fails for want of /etc/postfix/main.cf, and Posthorn runs postmap when a list is made.
Latencies are only known for the python drivers.  ``--instances`` sets ``[runner.lmtp]
instances``; ``--profile DIR`` has the runner write its cProfile statistics there
($POSTHORN_PROFILE).  Prints figures, never pass/fail.

    .venv/bin/python bench/lmtp_bench.py [--seconds 3] [--clients 1 4 16] [--dir /tmp]
        [--instances N] [--profile DIR] [--pipelining]
        [--driver python pipelining smtp-source] [--smtp-source PATH] [--no-spread]
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
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from benchfs import create_cost, spread

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


DRIVERS = ("python", "pipelining", "smtp-source")
# Where Debian's postfix package puts smtp-source, outside an ordinary user's PATH.
SMTP_SOURCE = "/usr/sbin/smtp-source"


@dataclass
class Level:
    """What one level measured; latencies only where the driver reports them."""

    rate: float
    p50: float | None
    p99: float | None
    sharing: str
    cpu: float
    loop: float
    client_cpu: float
    create: float


def python_load(
    port: int, clients: int, seconds: float, pipelining: bool
) -> tuple[int, list[float], float]:
    """This script's client: messages accepted, latencies, and the CPU it used."""
    used = time.process_time()
    accepted, latencies = asyncio.run(load(port, clients, seconds, pipelining))
    return accepted, latencies, time.process_time() - used


def smtp_source_load(program: str, port: int, clients: int, seconds: float) -> tuple[int, float]:
    """Postfix's smtp-source for ``seconds``: messages accepted, and the CPU it used.

    It sends until told to stop, printing a counter each time a DATA completes (its
    replies read); the count is the last one printed when the time is up.
    """
    command = [program, "-L", "-d", "-c", "-s", str(clients), "-m", str(10**9),
               "-l", str(len(BODY)), "-M", "bench", "-f", "alice@example.com",
               "-t", LIST, f"127.0.0.1:{port}"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    counted = [0]

    def count() -> None:
        assert process.stdout is not None
        pending = b""
        while piece := os.read(process.stdout.fileno(), 4096):
            *done, pending = (pending + piece).replace(b"\n", b"\r").split(b"\r")
            numbers = [int(part) for part in done if part.strip().isdigit()]
            if numbers:
                counted[0] = numbers[-1]

    reader = threading.Thread(target=count, daemon=True)
    reader.start()
    watched = psutil.Process(process.pid)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    accepted = counted[0]
    try:
        used = watched.cpu_times()
        cpu = used.user + used.system
    except psutil.NoSuchProcess:
        cpu = 0.0
    if process.poll() is not None:
        assert process.stderr is not None
        raise SystemExit(f"smtp-source stopped early: {process.stderr.read().decode().strip()}")
    process.terminate()
    process.wait(15)
    reader.join(5)
    return accepted, cpu


def run_level(
    tmp: Path, clients: int, seconds: float, instances: int, driver: str, smtp_source: str
) -> Level:
    """One level on a fresh master in ``tmp``, sent by ``driver``."""
    create = create_cost(tmp / "probe")
    port = free_port()
    process = start_master(tmp, port, clients, instances)
    latencies: list[float] = []
    try:
        before = runner_cpu(process)
        if driver == "smtp-source":
            accepted, client_cpu = smtp_source_load(smtp_source, port, clients, seconds)
        else:
            accepted, latencies, client_cpu = python_load(
                port, clients, seconds, driver == "pipelining"
            )
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
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else None
    p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else None
    per = 1000 / max(accepted, 1)
    return Level(accepted / seconds, p50, p99, sharing, cpu * per, loop, client_cpu * per, create)


def milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per concurrency level")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where the var goes")
    parser.add_argument("--instances", type=int, default=1, help="[runner.lmtp] instances")
    parser.add_argument("--profile", type=Path, default=None, help="runners write cProfile here")
    parser.add_argument("--pipelining", action="store_true", help="short for --driver pipelining")
    parser.add_argument("--driver", nargs="+", choices=DRIVERS, default=None,
                        help="the clients, one row each per level (default: python)")  # fmt: skip
    parser.add_argument("--smtp-source", default=None, help="the smtp-source program")
    parser.add_argument(
        "--no-spread", action="store_true", help="levels' folders where ext4 puts them"
    )
    args = parser.parse_args()
    drivers = args.driver or (["pipelining"] if args.pipelining else ["python"])
    smtp_source = args.smtp_source or shutil.which("smtp-source") or SMTP_SOURCE
    if "smtp-source" in drivers and not os.access(smtp_source, os.X_OK):
        raise SystemExit(f"no smtp-source at {smtp_source}: apt-get install postfix, or name one")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        os.environ["POSTHORN_PROFILE"] = str(args.profile.resolve())
    args.dir.mkdir(parents=True, exist_ok=True)
    where = str(args.dir)
    fs = subprocess.run(["df", "-T", where], capture_output=True, text=True, check=False).stdout
    print(f"queue in {where} on: {fs.splitlines()[-1] if fs else '?'}")
    print(
        f"message: {len(MESSAGE)} bytes, one recipient; fsync on; {os.cpu_count()} CPUs; "
        f"{args.instances} LMTP runner(s); load {os.getloadavg()[0]:.1f}"
    )
    run = Path(tempfile.mkdtemp(prefix="lmtp-bench-", dir=args.dir))
    spreading = not args.no_spread and spread(run)
    print(f"each level's folder in a block group of its own (chattr +T): {spreading}")
    print(
        f"{'driver':>11} {'clients':>7} {'msgs/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'msgs/dir fsync':>15} {'cpu ms/msg':>11} {'loop ms/msg':>12} {'client ms/msg':>14}"
        f" {'create us':>10}"
    )
    try:
        for driver in drivers:
            for clients in args.clients:
                level = run_level(
                    Path(tempfile.mkdtemp(prefix="level-", dir=run)),
                    clients,
                    args.seconds,
                    args.instances,
                    driver,
                    smtp_source,
                )
                print(
                    f"{driver:>11} {clients:>7} {level.rate:>9.0f} {milliseconds(level.p50):>8}"
                    f" {milliseconds(level.p99):>8} {level.sharing:>15} {level.cpu:>11.2f}"
                    f" {level.loop:>12.2f} {level.client_cpu:>14.2f} {level.create:>10.0f}",
                    flush=True,
                )
    finally:
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    main()
