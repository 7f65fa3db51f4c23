"""The LMTP runner under a real master, over loopback, with smtplib's LMTP client."""

from __future__ import annotations

import email
import email.policy
import time

import pytest

from tests.lmtp.conftest import Master, Raw
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

SENDER = "alice@example.com"


def message(marker: str, body: bytes = b"hello\r\n", headers: bytes = b"") -> bytes:
    return b"From: alice@example.com\r\nSubject: %s\r\n%s\r\n%s" % (
        marker.encode(),
        headers,
        body,
    )


def send(
    server: Master, recipients: list[str], data: bytes, sender: str = SENDER
) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """One transaction: the RCPT replies, then one DATA reply per accepted recipient."""
    with server.client() as lmtp:
        assert lmtp.mail(sender)[0] == 250
        rcpt = [lmtp.rcpt(address) for address in recipients]
        accepted = sum(1 for code, _ in rcpt if code == 250)
        if not accepted:
            return rcpt, []
        # smtplib reads the first reply to DATA; LMTP sends one per accepted recipient.
        replies = [lmtp.data(data)]
        replies += [lmtp.getreply() for _ in range(accepted - 1)]
    return rcpt, replies


def test_one_reply_per_recipient_for_good_and_unknown(server: Master) -> None:
    recipients = ["dev@example.org", "nope@example.org", "dev-owner@example.org", "dev@else.org"]
    rcpt, replies = send(server, recipients, message("mix"))
    assert [code for code, _ in rcpt] == [250, 550, 250, 550]
    assert rcpt[1][1] == b"5.1.1 No such list: nope@example.org"
    assert rcpt[3][1] == b"5.1.2 Domain not served here: else.org"
    assert [code for code, _ in replies] == [250, 250]
    entries = server.take("incoming")
    assert sorted(md["original_recipient"] for _, md in entries) == [
        "dev-owner@example.org",
        "dev@example.org",
    ]


def test_each_subaddress_lands_in_its_queue(server: Master) -> None:
    recipients = [
        "dev@example.org",
        "dev-owner@example.org",
        "dev-bounces+bob=example.net@example.org",
        "my-list-confirm+TOKEN42@example.org",
    ]
    data = message("routes")
    rcpt, replies = send(server, recipients, data)
    assert all(code == 250 for code, _ in rcpt + replies)
    incoming = {md["original_recipient"]: md for _, md in server.take("incoming")}
    (bounce,) = [md for _, md in server.take("bounce")]
    (confirm,) = [md for _, md in server.take("command")]
    posting = incoming["dev@example.org"]
    assert posting["to_list"] is True and posting["subaddress"] is None
    assert posting["list_id"] == "dev.example.org"
    assert posting["envelope_sender"] == SENDER
    assert posting["original_size"] == len(data)
    assert abs(posting["received_time"] - time.time()) < 60
    assert incoming["dev-owner@example.org"]["to_owner"] is True
    assert (bounce["subaddress"], bounce["verp"]) == ("bounces", "bob=example.net")
    assert bounce["verp_recipient"] == "bob@example.net"
    assert (confirm["list_id"], confirm["token"]) == ("my-list.example.org", "TOKEN42")


@pytest.mark.parametrize("suffix", ["request", "join", "leave", "subscribe", "unsubscribe"])
def test_command_addresses(server: Master, suffix: str) -> None:
    _, replies = send(server, [f"dev-{suffix}@example.org"], message(suffix))
    assert replies[0][0] == 250
    ((_, msgdata),) = server.take("command")
    assert (msgdata["subaddress"], msgdata["list_id"]) == (suffix, "dev.example.org")


def test_null_sender_to_bounces(server: Master) -> None:
    _, replies = send(server, ["dev-bounces@example.org"], message("dsn"), sender="<>")
    assert replies[0][0] == 250
    ((_, msgdata),) = server.take("bounce")
    assert msgdata["envelope_sender"] == ""


def test_size_is_announced_and_oversize_is_552_per_recipient(server: Master) -> None:
    with server.client() as lmtp:
        assert lmtp.has_extn("size") and lmtp.esmtp_features["size"] == str(64 * 1024)
    # Too many lines, and one line too long: aiosmtpd refuses these on different paths.
    for body in (b"x" * 70 + b"\r\n") * 1000, b"x" * 70 * 1024 + b"\r\n":
        recipients = ["dev@example.org", "dev-owner@example.org"]
        _, replies = send(server, recipients, message("big", body))
        assert replies == [(552, b"5.3.4 Message too big (limit 65536 bytes)")] * 2
    assert server.take("incoming") == []
    assert server.leftovers() == []


def test_long_lines_under_the_size_limit_are_accepted(server: Master) -> None:
    _, replies = send(server, ["dev@example.org"], message("long", body=b"y" * 20000 + b"\r\n"))
    assert replies[0][0] == 250
    ((data, _),) = server.take("incoming")
    assert b"y" * 20000 in data


def test_too_many_recipients(server: Master) -> None:
    rcpt, replies = send(server, ["dev@example.org"] * 6, message("many"))
    assert [code for code, _ in rcpt] == [250] * 5 + [452]
    assert len(replies) == 5
    assert len(server.take("incoming")) == 5


def test_message_id_is_added_when_missing_and_kept_when_present(server: Master) -> None:
    send(server, ["dev@example.org"], message("no-id"))
    send(server, ["dev@example.org"], message("id", headers=b"Message-ID: <own@example.com>\r\n"))
    added, kept = (email.message_from_bytes(data) for data, _ in server.take("incoming"))
    assert added["Message-ID"].endswith("@lists.test>")
    assert kept.get_all("Message-ID") == ["<own@example.com>"]


def test_a_message_the_parser_chokes_on_is_queued_raw(server: Master) -> None:
    # On Python 3.11 this Content-Type makes email.message_from_bytes raise under
    # policy.default.  It is accepted and stored as received (see posthorn.intake.lmtp).
    data = message("odd", headers=b"Content-Type: text/plain; utf-8*0*\r\n")
    _, replies = send(server, ["dev@example.org"], data)
    assert replies[0][0] == 250
    ((stored, _),) = server.take("incoming")
    assert stored.endswith(data)


@pytest.mark.parametrize(
    ("cap", "reply"),
    [
        ("depth", b"5.6.0 MIME nesting too deep (limit 5)"),
        ("parts", b"5.6.0 Too many MIME parts (limit 20)"),
        ("count", b"5.6.0 Too many header fields (limit 50)"),
        ("size", b"5.6.0 Header field too long (limit 2048 bytes)"),
    ],
)
def test_structure_caps_name_the_limit(server: Master, cap: str, reply: bytes) -> None:
    under, over = hostile(cap)
    _, replies = send(server, ["dev@example.org", "dev-owner@example.org"], over)
    assert replies == [(554, reply)] * 2
    assert server.take("incoming") == []
    _, replies = send(server, ["dev@example.org"], under)
    assert replies[0][0] == 250


def hostile(cap: str) -> tuple[bytes, bytes]:
    """A message just at the test master's cap and one just past it."""

    def nested(depth: int) -> bytes:
        body = b"Content-Type: text/plain\r\n\r\nx\r\n"
        for level in range(depth):
            b = b"b%d" % level
            body = b"Content-Type: multipart/mixed; boundary=%s\r\n\r\n--%s\r\n%s--%s--\r\n" % (
                b,
                b,
                body,
                b,
            )
        return b"Subject: deep\r\n" + body

    def wide(parts: int) -> bytes:
        body = b"".join(b"--w\r\n\r\npart\r\n" for _ in range(parts))
        return b"Content-Type: multipart/mixed; boundary=w\r\n\r\n" + body + b"--w--\r\n"

    def fields(count: int) -> bytes:
        return b"".join(b"X-N%d: v\r\n" % i for i in range(count)) + b"\r\nbody\r\n"

    def field(size: int) -> bytes:
        # Words of 10 bytes: a single word that long is refused for its own reason.
        return b"X-Long: " + (b"vvvvvvvvv " * size)[: size - 10] + b"\r\n\r\nbody\r\n"

    make, limit = {"depth": (nested, 5), "parts": (wide, 20), "count": (fields, 50)}.get(
        cap, (field, 2048)
    )
    return make(limit), make(limit + 1)


@pytest.mark.parametrize("end", [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r\n.\r"])
def test_bare_line_ends_cannot_smuggle_a_second_message(server: Master, end: bytes) -> None:
    raw = Raw(server.port)
    for command in (b"LHLO test", b"MAIL FROM:<alice@example.com>", b"RCPT TO:<dev@example.org>"):
        assert raw.command(command).startswith(b"250")
    assert raw.command(b"DATA").startswith(b"354")
    smuggled = (
        b"Subject: first\r\n\r\nfirst body"
        + end
        + b"MAIL FROM:<evil@example.net>\r\nRCPT TO:<dev@example.org>\r\nDATA\r\n"
        + b"Subject: smuggled\r\n\r\nsecond body\r\n"
    )
    # Exactly one reply to the whole DATA, then QUIT's: nothing in between was a command.
    assert raw.command(smuggled + b".").startswith(b"250")
    assert raw.command(b"QUIT").startswith(b"221")
    raw.close()
    ((data, msgdata),) = server.take("incoming")
    assert msgdata["envelope_sender"] == "alice@example.com"
    # The would-be second message is text in the first, and every line ends in CRLF.
    assert b"MAIL FROM:<evil@example.net>\r\n" in data
    assert data.count(b"\r") == data.count(b"\n") == data.count(b"\r\n")


def test_disconnect_mid_data_leaves_nothing(server: Master) -> None:
    raw = Raw(server.port)
    for command in (b"LHLO test", b"MAIL FROM:<a@example.com>", b"RCPT TO:<dev@example.org>"):
        assert raw.command(command).startswith(b"250")
    assert raw.command(b"DATA").startswith(b"354")
    raw.sock.sendall(b"Subject: cut\r\n\r\n" + b"half a message\r\n" * 1000)
    raw.close()
    # A complete delivery afterwards: once it is answered, the first is long handled.
    _, replies = send(server, ["dev@example.org"], message("after"))
    assert replies[0][0] == 250
    ((data, _),) = server.take("incoming")
    assert b"Subject: after" in data
    assert server.leftovers() == []


def test_queue_fault_is_451_and_leaves_nothing_half_written(server: Master) -> None:
    # Tests may run as root, where a mode of 0500 stops nobody; a file where the queue
    # directory should be fails every write, whoever we are.
    incoming = server.queue_dir / "incoming"
    aside = server.queue_dir / "incoming.aside"
    incoming.rename(aside)
    incoming.write_text("not a directory")
    try:
        _, replies = send(server, ["dev@example.org", "dev-bounces@example.org"], message("f"))
    finally:
        incoming.unlink()
        aside.rename(incoming)
    assert replies[0] == (451, b"4.3.0 Cannot queue the message now, try again later")
    assert replies[1][0] == 250
    assert "cannot queue the message for dev@example.org" in server.log()
    assert server.take("incoming") == []
    assert len(server.take("bounce")) == 1
    assert server.leftovers() == []
    # Once the directory is back, the MTA's retry succeeds.
    _, replies = send(server, ["dev@example.org"], message("retry"))
    assert replies[0][0] == 250


def hold_connections(server: Master, count: int) -> list[Raw]:
    """``count`` open sessions; a slot a previous test's client still holds frees soon."""
    held: list[Raw] = []

    def one_more() -> bool:
        try:
            held.append(Raw(server.port))
        except AssertionError:
            return False
        return len(held) == count

    if count:
        wait_for(one_more, f"{count} free connection slots", 10)
    return held


def test_idle_timeout(server: Master) -> None:
    held = hold_connections(server, 2)
    try:
        # The idle timeout (3s) frees the slots: the server hangs up on silent clients.
        for raw in held:
            assert raw.line() == b""
    finally:
        for raw in held:
            raw.close()
    with server.client() as lmtp:
        assert lmtp.noop()[0] == 250


def test_pipelining_is_announced_and_a_pipelined_transaction_gets_every_reply(
    server: Master,
) -> None:
    with server.client() as lmtp:
        assert lmtp.has_extn("pipelining")
    raw = Raw(server.port)
    assert raw.command(b"LHLO test").startswith(b"250")
    # MAIL, the RCPTs and DATA in one write, as an MTA's pipelining LMTP client sends them.
    raw.sock.sendall(
        b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<dev@example.org>\r\n"
        b"RCPT TO:<nobody@example.org>\r\nRCPT TO:<dev-owner@example.org>\r\nDATA\r\n"
    )
    replies = [raw.line()[:3] for _ in range(5)]
    assert replies == [b"250", b"250", b"550", b"250", b"354"]
    raw.sock.sendall(message("pipelined") + b".\r\n")
    assert [raw.line()[:3] for _ in range(2)] == [b"250", b"250"]
    assert raw.command(b"QUIT").startswith(b"221")
    raw.close()
    stored = server.take("incoming")
    assert [msgdata["original_recipient"] for _, msgdata in stored] == [
        "dev@example.org",
        "dev-owner@example.org",
    ]


def test_a_client_hanging_up_after_its_data_leaves_the_entry_whole(server: Master) -> None:
    raw = Raw(server.port)
    for command in (b"LHLO test", b"MAIL FROM:<alice@example.com>", b"RCPT TO:<dev@example.org>"):
        assert raw.command(command).startswith(b"250")
    assert raw.command(b"DATA").startswith(b"354")
    # Gone before the reply: the entry is still written, synced and never half there.
    raw.sock.sendall(message("gone") + b".\r\n")
    raw.close()
    ((data, msgdata),) = wait_for(lambda: server.take("incoming"), "the entry")
    assert b"Subject: gone" in data and msgdata["original_recipient"] == "dev@example.org"
    assert server.leftovers() == []
