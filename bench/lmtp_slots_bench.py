"""How long a well-behaved MTA waits to be served while idle clients hold every LMTP slot.

A real master runs only the LMTP runner (``max_connections`` 32, the default timeouts:
``idle_timeout`` 5m, ``pressure_idle_timeout`` 10s).  The bench opens 32 connections
that greet (LHLO) and then say nothing, then, ``--trials`` times, connects a client that
delivers one message and quits, and reports how long that took, or the 421 it got.
Before slots under pressure, every newcomer was refused with 421 until an idle
connection timed out (up to 5 minutes).  Prints figures, never pass/fail.

    .venv/bin/python bench/lmtp_slots_bench.py [--trials 10] [--dir /var/tmp]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import tempfile
import time
from pathlib import Path

from lmtp_bench import Client, free_port, start_master, stop_master

CAP = 32


async def idle_client(port: int) -> Client:
    return await Client.connect(port)


async def newcomer(port: int) -> tuple[float, str]:
    """Seconds until one message is delivered, and the outcome."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    client = Client(reader, writer)
    greeting = await client.reply()
    if not greeting.startswith(b"220"):
        writer.close()
        return time.monotonic() - started, greeting.decode(errors="replace").strip()
    await client.command(b"LHLO bench")
    delivered = await client.send()
    await client.close()
    return time.monotonic() - started, "delivered" if delivered else "refused at DATA"


async def run(port: int, trials: int) -> list[tuple[float, str]]:
    idle = [await idle_client(port) for _ in range(CAP)]
    results = []
    for _ in range(trials):
        results.append(await newcomer(port))
        # Between trials, the cap fills again with a fresh idle client (if it gets in).
        with contextlib.suppress(ConnectionError):
            idle.append(await idle_client(port))
    for client in idle:
        client.writer.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary var goes")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lmtp-slots-bench-", dir=args.dir))
    port = free_port()
    # lmtp_bench sizes the cap as max(2 x clients, 32): 32 here.
    process = start_master(tmp, port, clients=1)
    try:
        results = asyncio.run(run(port, args.trials))
    finally:
        stop_master(process)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{CAP} idle connections hold the cap; a newcomer delivers one message")
    print(f"{'trial':>5} {'seconds':>8}  outcome")
    for trial, (seconds, outcome) in enumerate(results, 1):
        print(f"{trial:>5} {seconds:>8.3f}  {outcome}")
    served = sorted(seconds for seconds, outcome in results if outcome == "delivered")
    if served:
        print(f"served {len(served)}/{len(results)}; worst {served[-1]:.3f}s")
    else:
        print(f"served 0/{len(results)}")


if __name__ == "__main__":
    main()
