"""Chaos figures: posts over LMTP while a random runner is SIGKILLed again and again.

Runs a whole site (every runner, an SMTP sink), posts ``--posts`` messages to a list of
``--members`` over LMTP (a post counts once its 250 arrived; the poster retries on 4xx
and broken connections like an MTA), kills a random runner every ``--interval``
seconds, then waits for the queues to drain and prints posts sent, deliveries expected,
delivered, lost and duplicated.  Figures, never pass/fail.

    .venv/bin/python bench/chaos_bench.py [--posts 1000] [--members 10] [--interval 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.stack import Poster, PostStream, build


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between kills")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait at the end")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        stack = build(Path(tmp), args.members)
        try:
            stack.start()
            poster = Poster(stack.lmtp_port)
            stream = PostStream(poster, args.posts)
            started = time.monotonic()
            stream.start()
            kills: dict[str, int] = {}
            while stream.is_alive():
                stream.join(args.interval)
                killed = stack.kill_random_runner(rng)
                if killed:
                    kind = killed.split("/")[0]
                    kills[kind] = kills.get(kind, 0) + 1
            outcome = stack.wait_delivered(poster.accepted, args.drain)
            elapsed = time.monotonic() - started
        finally:
            stack.stop()
            stack.sink.stop()
    delivered = outcome.expected - len(outcome.missing)
    print(f"posts sent (accepted)  {len(poster.accepted)}  (LMTP attempts {poster.attempts})")
    print(f"kills                  {sum(kills.values())}  {dict(sorted(kills.items()))}")
    print(f"deliveries expected    {outcome.expected}")
    print(f"delivered              {delivered}")
    print(f"lost                   {len(outcome.missing)}")
    print(f"duplicated             {outcome.duplicates}")
    print(f"elapsed                {elapsed:.1f}s")


if __name__ == "__main__":
    main()
