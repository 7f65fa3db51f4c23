"""A small DNS responder on 127.0.0.1 for tests: TXT records from a dict, over UDP.

It answers with dnspython's message classes, so the resolver under test speaks real
DNS over a real socket.  Names not in ``records`` get NXDOMAIN; a name listed in
``silent`` gets no answer at all (for timeout tests).  ``queries`` counts what was
asked, so a test can tell a cached answer from a fresh one.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from types import TracebackType

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

__all__ = ["DnsServer"]


class DnsServer:
    def __init__(self, records: dict[str, list[str]] | None = None, ttl: int = 300) -> None:
        self.records = {k.lower().rstrip("."): v for k, v in (records or {}).items()}
        self.silent: set[str] = set()
        self.ttl = ttl
        self.queries: Counter[str] = Counter()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            reply = self._answer(data)
            if reply is not None:
                self._sock.sendto(reply, peer)

    def _answer(self, data: bytes) -> bytes | None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        self.queries[name] += 1
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        texts = self.records.get(name)
        if texts is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT:
            quoted = [f'"{text}"' for text in texts]
            rrset = dns.rrset.from_text(question.name, self.ttl, "IN", "TXT", *quoted)
            response.answer.append(rrset)
        return bytes(response.to_wire())
