"""Connection slots under pressure (``posthorn.intake.slots``): the MTA is never locked out."""

from __future__ import annotations

import socket
import time

import pytest

from tests.lmtp.conftest import Master
from tests.lmtp.test_lmtp_runner import Raw, hold_connections, message, send

pytestmark = pytest.mark.slow

EVICTED = b"421 4.3.2 All connection slots in use, closing an idle one"
# Past [runner.lmtp] pressure_idle_timeout (500ms), well short of idle_timeout (3s).
PAST_PRESSURE = 1.0


def test_a_newcomer_is_served_at_once_while_idle_clients_hold_every_slot(server: Master) -> None:
    held = hold_connections(server, 4)
    for raw in held:
        assert raw.command(b"LHLO idle").startswith(b"250")
    try:
        start = time.monotonic()
        with server.client() as lmtp:
            greeted = time.monotonic() - start
            assert lmtp.sendmail("alice@example.com", ["dev@example.org"], message("new")) == {}
        assert greeted < 1.0
        assert len(server.take("incoming")) == 1
        # The session idle longest made room; under pressure the others wait 500ms, not 3s.
        assert held[0].line() == EVICTED
        for raw in held[1:]:
            assert raw.line() == b""
        assert time.monotonic() - start < 3.0
    finally:
        for raw in held:
            raw.close()


def begin_data(raw: Raw, marker: bytes) -> None:
    for command in (b"LHLO busy", b"MAIL FROM:<alice@example.com>", b"RCPT TO:<dev@example.org>"):
        assert raw.command(command).startswith(b"250")
    assert raw.command(b"DATA").startswith(b"354")
    raw.sock.sendall(b"Subject: %s\r\n\r\nfirst half\r\n" % marker)


def test_a_client_in_data_is_never_evicted_nor_cut_short(server: Master) -> None:
    senders = hold_connections(server, 3)
    for index, raw in enumerate(senders):
        begin_data(raw, b"slow %d" % index)
    idle = Raw(server.port)
    assert idle.command(b"LHLO idle").startswith(b"250")
    try:
        # The only idle session yields its slot; the three in DATA keep theirs.
        newcomer = Raw(server.port)
        senders.append(newcomer)
        assert idle.line() == EVICTED
        begin_data(newcomer, b"newcomer")
        # Every slot is at work now: a fifth client is told to come back later.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as extra:
            assert extra.recv(512).startswith(b"421 4.3.2 Too many connections")
        # Time passing, on purpose: DATA keeps the normal timeout under pressure.
        time.sleep(PAST_PRESSURE)
        for raw in senders:
            assert raw.command(b"second half\r\n.").startswith(b"250 2.0.0 Queued")
        assert len(server.take("incoming")) == 4
    finally:
        for raw in [*senders, idle]:
            raw.close()
    # And once the pressure is gone, an ordinary delivery.
    _, replies = send(server, ["dev@example.org"], message("after"))
    assert replies[0][0] == 250
