"""ARC signing end to end: posts in over LMTP, copies at an SMTP sink, verified by dkimpy.

A real master runs lmtp, incoming, pipeline and outgoing; the poster's public key is
served by a DNS server on loopback (``tests.dnsserver``), which the list's resolver
(``[dmarc]``) asks on arrival.  The copies are verified with dkimpy's ARC verifier,
its key lookup answering from the test's keys, so nothing reaches the Internet.
"""

from __future__ import annotations

import base64
import email
import smtplib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dkim
import pytest

from posthorn.config import ConfigError, load_config
from posthorn.handlers.arc_sign import ArcSigner
from posthorn.site import Site
from tests.dnsserver import DnsServer
from tests.sites import master_with_sink
from tests.smtpsink import SMTPSink
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

LIST = "dev@lists.example"
PERSONAL = "pers@lists.example"
POSTER = "ann@origin.example"
MEMBERS = ["bob@example.com", "cat@example.net"]
RUNNING = ("lmtp", "incoming", "pipeline", "outgoing")


def make_key(path: Path, bits: int) -> bytes:
    """A fresh RSA key at ``path``; its DKIM TXT record (one string under 255 octets)."""
    subprocess.run(["openssl", "genrsa", "-out", str(path), str(bits)], check=True,
                   capture_output=True, timeout=30)  # fmt: skip
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"],
        check=True, capture_output=True, timeout=30,
    ).stdout  # fmt: skip
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, bytes]]:
    tmp = tmp_path_factory.mktemp("keys")
    return {
        "origin": (tmp / "origin.pem", make_key(tmp / "origin.pem", 1024)),
        "list": (tmp / "list.pem", make_key(tmp / "list.pem", 2048)),
    }


def lookup_in(keys: dict[str, tuple[Path, bytes]]) -> Callable[..., bytes | None]:
    records = {
        b"s1._domainkey.origin.example.": keys["origin"][1],
        b"lists._domainkey.lists.example.": keys["list"][1],
    }

    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        return records.get(name if name.endswith(b".") else name + b".")

    return lookup


def arrange(site: Site) -> None:
    for address in (LIST, PERSONAL):
        site.lists.create(address, owners=["owner@lists.example"])
        site.lists.update(address, subject_prefix="[Dev] ")
        for member in [POSTER, *MEMBERS]:
            site.lists.subscribe(address, member)
    site.lists.update(PERSONAL, personalize="full")


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, keys: dict[str, tuple[Path, bytes]]
) -> Iterator[tuple[int, SMTPSink]]:
    tmp = tmp_path_factory.mktemp("arc")
    origin = keys["origin"][1].decode()
    with DnsServer({"s1._domainkey.origin.example": [origin]}) as dns:
        extra = {
            "dmarc": {"nameservers": "127.0.0.1", "port": dns.port, "timeout": "2s"},
            "arc": {"enable": "yes", "private_key": keys["list"][0], "selector": "lists",
                    "domain": "lists.example", "authserv_id": "lists.example"},
        }  # fmt: skip
        with master_with_sink(tmp, running=RUNNING, arrange=arrange, extra_sections=extra,
                              output=subprocess.DEVNULL) as (_, lmtp_port, sink):  # fmt: skip
            yield lmtp_port, sink


def signed_post(keys: dict[str, tuple[Path, bytes]], to: str, subject: str, arc: bool) -> bytes:
    """A post DKIM-signed by origin.example; with ``arc``, sealed by it too (i=1)."""
    body = (
        f"From: {POSTER}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}.{time.time_ns()}@origin.example>\r\n"
        "Date: Thu, 03 Dec 2026 08:00:00 +0000\r\n\r\nHello, list.\r\n"
    ).encode()
    key = keys["origin"][0].read_bytes()
    data = dkim.sign(body, b"s1", b"origin.example", key) + body
    if arc:
        data = b"Authentication-Results: mx.origin.example; dkim=pass\r\n" + data
        data = b"".join(dkim.arc_sign(data, b"s1", b"origin.example", key,
                                      b"mx.origin.example")) + data  # fmt: skip
    return data


def copies(sink: SMTPSink, subject: str, count: int) -> list[bytes]:
    """The copies of ``subject``, one per recipient, once ``count`` have arrived."""

    def found() -> list[bytes] | None:
        with sink.lock:
            got = [data for _, rcpts, data in sink.received if subject.encode() in data
                   for _ in rcpts]  # fmt: skip
        return got if len(got) >= count else None

    return wait_for(found, f"{count} copies of {subject!r}")


def seal_of(data: bytes, instance: int) -> str:
    msg = email.message_from_bytes(data)
    for seal in msg.get_all("ARC-Seal", []):
        if f"i={instance};" in seal.replace(" ", ""):
            return " ".join(seal.split())
    raise AssertionError(f"no ARC-Seal i={instance}")


@pytest.mark.parametrize("listname", [LIST, PERSONAL])
def test_every_copy_carries_a_verifying_arc_set(
    site: tuple[int, SMTPSink], keys: dict[str, tuple[Path, bytes]], listname: str
) -> None:
    lmtp_port, sink = site
    subject = f"first {listname}"
    with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
        lmtp.sendmail(POSTER, [listname], signed_post(keys, listname, subject, arc=False))
    got = copies(sink, subject, 3)
    assert len(got) == 3
    for data in got:
        # The list changed the post: the poster's own signature no longer verifies ...
        assert b"[Dev] first" in data
        assert not dkim.verify(data, dnsfunc=lookup_in(keys))
        # ... but the list's ARC set does, and says what the list saw on arrival.
        result, _, reason = dkim.arc_verify(data, dnsfunc=lookup_in(keys))
        assert result == dkim.CV_Pass, reason
        assert "cv=none" in seal_of(data, 1) and "d=lists.example" in seal_of(data, 1)
        results = email.message_from_bytes(data)["ARC-Authentication-Results"]
        assert "dkim=pass header.d=origin.example" in " ".join(results.split())
    if listname == PERSONAL:
        tos = {email.message_from_bytes(data)["To"] for data in got}
        assert tos == {POSTER, *MEMBERS}


def test_many_signatures_make_no_line_over_998_octets(
    site: tuple[int, SMTPSink], keys: dict[str, tuple[Path, bytes]]
) -> None:
    lmtp_port, sink = site
    subject = "many signatures"
    data = signed_post(keys, LIST, subject, arc=False)
    key = keys["origin"][0].read_bytes()
    for _ in range(39):
        data = dkim.sign(data, b"s1", b"origin.example", key) + data
    with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
        lmtp.sendmail(POSTER, [LIST], data)
    for copy in copies(sink, subject, 3):
        assert max(len(line) for line in copy.split(b"\r\n")) <= 998
        result, _, reason = dkim.arc_verify(copy, dnsfunc=lookup_in(keys))
        assert result == dkim.CV_Pass, reason


def test_a_post_carrying_an_arc_set_gets_the_next_instance(
    site: tuple[int, SMTPSink], keys: dict[str, tuple[Path, bytes]]
) -> None:
    lmtp_port, sink = site
    subject = "chained post"
    with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
        lmtp.sendmail(POSTER, [LIST], signed_post(keys, LIST, subject, arc=True))
    for data in copies(sink, subject, 3):
        result, sets, reason = dkim.arc_verify(data, dnsfunc=lookup_in(keys))
        assert result == dkim.CV_Pass, reason
        assert [s["instance"] for s in sets] == [2, 1]
        assert "cv=pass" in seal_of(data, 2) and "d=lists.example" in seal_of(data, 2)
        assert "cv=none" in seal_of(data, 1) and "d=origin.example" in seal_of(data, 1)


def test_a_forged_result_claiming_the_lists_identity_is_not_sealed(
    site: tuple[int, SMTPSink], keys: dict[str, tuple[Path, bytes]]
) -> None:
    lmtp_port, sink = site
    subject = "forged results"
    forged = b"Authentication-Results: lists.example; dkim=pass header.d=bank.example\r\n"
    with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
        lmtp.sendmail(POSTER, [LIST], forged + signed_post(keys, LIST, subject, arc=False))
    for data in copies(sink, subject, 3):
        assert b"bank.example" not in data
        assert dkim.arc_verify(data, dnsfunc=lookup_in(keys))[0] == dkim.CV_Pass


def test_signing_on_without_a_key_is_a_configuration_error(tmp_path: Path) -> None:
    config = load_config(None, overrides={
        "paths": {"var_dir": str(tmp_path)},
        "arc": {"enable": "yes", "selector": "s", "domain": "d.example", "authserv_id": "d"},
    })  # fmt: skip
    with pytest.raises(ConfigError, match=r"\[arc\] private_key"):
        ArcSigner.from_config(config)
    off = load_config(None, overrides={"paths": {"var_dir": str(tmp_path)}})
    assert ArcSigner.from_config(off) is None
