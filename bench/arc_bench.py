"""The cost of ARC: signing per outgoing copy, verifying once per post on arrival (ms).

Signs a typical post (a dozen header fields, a text body of ``--body`` bytes, already
decorated) ``--copies`` times with a 2048-bit RSA key through ``ArcSigner.sign``, the
call the outgoing runner makes for each copy, and prints the mean and the 95th
percentile per copy, with the plain serialisation (``to_wire``) beside it for scale.
Then verifies the poster's DKIM signature and an i=1 ARC set the way the ``arc-sign``
handler does on arrival, keys answered in process (no DNS time counted).  One process,
one core.

    .venv/bin/python bench/arc_bench.py [--copies N] [--body BYTES]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import subprocess
import sys
import tempfile
import time
from email import message_from_bytes
from pathlib import Path

import dkim

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posthorn.delivery.wire import to_wire
from posthorn.handlers.arc_sign import ArcSigner, authentication_results


def make_key(path: Path) -> bytes:
    subprocess.run(["openssl", "genrsa", "-out", str(path), "2048"], check=True,
                   capture_output=True)  # fmt: skip
    der = subprocess.run(["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout  # fmt: skip
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def post(body_size: int) -> bytes:
    line = "The quick brown fox jumps over the lazy dog, again and again.\r\n"
    body = (line * (body_size // len(line) + 1))[:body_size]
    headers = (
        "From: Ann <ann@origin.example>\r\nTo: dev@lists.example\r\n"
        "Subject: [Dev] A typical post\r\nDate: Thu, 03 Dec 2026 08:00:00 +0000\r\n"
        "Message-ID: <bench@origin.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nList-Id: Dev <dev.lists.example>\r\n"
        "List-Post: <mailto:dev@lists.example>\r\nPrecedence: list\r\n"
        "List-Unsubscribe: <mailto:dev-leave@lists.example>\r\n"
    )
    return (headers + "\r\n" + body).encode()


def millis(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) >= 20 else ordered[-1]
    return f"mean {statistics.mean(samples) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--body", type=int, default=4096)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        key_path = Path(tmp) / "key.pem"
        record = make_key(key_path)
        key = key_path.read_bytes()
    signer = ArcSigner(key=key, selector="s", domain="lists.example", headers=[],
                       authserv_id="lists.example")  # fmt: skip
    msg = message_from_bytes(post(args.body))
    results = "lists.example; dkim=pass header.d=origin.example header.s=s; arc=none"
    plain, signed = [], []
    for _ in range(args.copies):
        start = time.perf_counter()
        data = to_wire(msg)
        middle = time.perf_counter()
        signer.sign(data, results)
        plain.append(middle - start)
        signed.append(time.perf_counter() - middle)
    print(f"copies: {args.copies}, body {args.body} bytes, RSA 2048")
    print(f"to_wire per copy:   {millis(plain)}")
    print(f"ARC sign per copy:  {millis(signed)}")

    def lookup(name: bytes, timeout: float = 5) -> bytes:
        return record

    arrived = post(args.body)
    arrived = dkim.sign(arrived, b"s", b"origin.example", key) + arrived
    arrived = b"Authentication-Results: mx.origin.example; dkim=pass\r\n" + arrived
    arrived = b"".join(dkim.arc_sign(arrived, b"s", b"origin.example", key,
                                     b"mx.origin.example")) + arrived  # fmt: skip
    verify = []
    for _ in range(max(1, args.copies // 10)):
        start = time.perf_counter()
        found = authentication_results(arrived, "lists.example", lookup)
        verify.append(time.perf_counter() - start)
    assert "dkim=pass" in found and "arc=pass" in found, found
    print(f"verify on arrival:  {millis(verify)} (once per post: DKIM + ARC chain)")


if __name__ == "__main__":
    main()
