"""Posts enqueued on ``pipeline`` reach every member through a real master and an SMTP sink."""

from __future__ import annotations

import email
import time
from email import policy
from email.message import EmailMessage, Message

import pytest

from posthorn.queues import Switchboard
from tests.pipeline.conftest import BIG, SMALL, Delivery, member
from tests.smtpsink import SMTPSink
from tests.waiting import wait_for

pytestmark = pytest.mark.slow


def post(subject: str, body: str = "Hello.\n", charset: str = "utf-8") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "poster@example.net"
    msg["To"] = BIG
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}.{time.time_ns()}@example.net>"
    msg.set_content(body, charset=charset)
    return msg


def copies(sink: SMTPSink, subject_part: str) -> list[tuple[list[str], Message]]:
    found = []
    for _, rcpts, data in list(sink.received):
        msg = email.message_from_bytes(data, policy=policy.compat32)
        if subject_part in str(msg["subject"]):
            found.append((rcpts, msg))
    return found


def test_every_member_of_a_big_list_gets_exactly_one_decorated_copy(
    delivery: Delivery, sink: SMTPSink
) -> None:
    delivery.post(BIG, post("big one"))
    wait_for(lambda: sink.delivered() >= 1000, "1000 deliveries", 30)
    delivery.wait_idle()
    assert sink.counts == {member(n): 1 for n in range(1000)}
    _, msg = copies(sink, "big one")[0]
    assert str(msg["subject"]).startswith("[Big] big one")
    assert msg["List-Id"] == "Big <big.example.org>"
    assert msg["List-Post"] == f"<mailto:{BIG}>"
    assert msg["Message-ID-Hash"] and msg["X-Message-ID-Hash"] == msg["Message-ID-Hash"]
    assert msg["Precedence"] == "list"
    # A 7bit body comes back with the wire's line ends.
    body = msg.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert body.startswith("Hello.\n") and "To unsubscribe send an email to" in body
    assert sink.received[0][0] == "big-bounces@example.org"
    assert max(len(r) for _, r, _ in sink.received) <= 500


@pytest.mark.parametrize("kind", ["mixed", "alternative", "latin-1"])
def test_the_footer_keeps_the_mime_structure_valid(
    delivery: Delivery, sink: SMTPSink, kind: str
) -> None:
    msg = post(f"mime {kind}", "Grüße, café.\n", "iso-8859-1" if kind == "latin-1" else "utf-8")
    msg.replace_header("To", SMALL)
    if kind == "mixed":
        msg.add_attachment(b"\x00\x01", maintype="application", subtype="octet-stream")
    elif kind == "alternative":
        msg.add_alternative("<p>Grüße</p>", subtype="html")
    delivery.post(SMALL, msg)
    wait_for(lambda: len(copies(sink, f"mime {kind}")) >= 1, "the copy", 15)
    _, got = copies(sink, f"mime {kind}")[0]
    if kind == "latin-1":
        assert got.get_content_type() == "text/plain"
        assert got.get_content_charset() == "iso-8859-1"
        text = got.get_payload(decode=True).decode("iso-8859-1")
        assert text.startswith("Grüße, café.") and "mailing list" in text
        return
    assert got.get_content_type() == "multipart/mixed"
    parts = got.get_payload()
    assert parts[-1].get_content_type() == "text/plain"
    assert "mailing list" in parts[-1].get_payload(decode=True).decode()
    if kind == "alternative":
        assert parts[0].get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in parts[0].get_payload()] == [
            "text/plain",
            "text/html",
        ]
    else:
        assert parts[1].get_content_type() == "application/octet-stream"


def test_temporary_failures_are_retried_until_everyone_is_served(
    delivery: Delivery, sink: SMTPSink
) -> None:
    failing = {member(n) for n in range(1000) if n % 3 == 0}
    sink.tempfail.update(failing)
    delivery.post(BIG, post("tempfail"))
    wait_for(lambda: sink.delivered() >= 1000 - len(failing), "the first pass", 30)
    sink.tempfail.clear()
    wait_for(lambda: sink.delivered() >= 1000, "the retries", 30)
    delivery.wait_idle()
    assert sink.counts == {member(n): 1 for n in range(1000)}


def test_an_mta_down_for_a_while_loses_nothing(delivery: Delivery, sink: SMTPSink) -> None:
    sink.stop()
    try:
        delivery.post(SMALL, post("while down"))
        time.sleep(1.0)  # the MTA staying down a while is the scenario
    finally:
        sink.start()
    wait_for(lambda: sink.delivered() >= 3, "delivery after the MTA came back", 30)
    delivery.wait_idle()
    assert sink.counts == {member(n): 1 for n in range(3)}


def test_a_permanent_refusal_records_a_bounce_and_serves_the_rest(
    delivery: Delivery, sink: SMTPSink
) -> None:
    sink.reject.add(member(1))
    delivery.post(SMALL, post("refused one"))
    wait_for(lambda: sink.delivered() >= 2, "the other deliveries", 15)
    delivery.wait_idle()
    assert sink.counts == {member(0): 1, member(2): 1}
    bounces = Switchboard(delivery.var_dir / "queue" / "bounce", name="bounce")
    wait_for(lambda: bounces.files, "the bounce entry", 10)
    _, data = bounces.dequeue_raw(bounces.files[0])
    assert data["smtp_failures"][member(1)][0] == 550
    assert "accepted=0" in delivery.log("smtp") or "permanent=1" in delivery.log("smtp")
