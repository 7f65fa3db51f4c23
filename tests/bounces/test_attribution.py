"""Attribution: VERP first, then SMTP refusals, then flufl.bounce's detectors."""

from __future__ import annotations

import email

import pytest

from posthorn.bounces.attribution import Attribution, attribute
from tests.bounces import samples


@pytest.mark.parametrize("build", [samples.dsn, samples.qmail, samples.postfix])
def test_real_formats_name_the_recipient(build: object) -> None:
    assert callable(build)
    msg = email.message_from_bytes(build("gone@example.com"))
    found = attribute(msg, {})
    assert found.addresses == {"gone@example.com"}
    assert found.source == "scan"


def test_verp_wins_without_reading_the_body() -> None:
    # The body names someone else: a VERP bounce is attributed by its envelope only.
    msg = email.message_from_bytes(samples.dsn("other@example.com"))
    found = attribute(msg, {"verp_recipient": "Member@Example.com"})
    assert found.addresses == {"member@example.com"}
    assert found.source == "verp"


def test_smtp_refusals_recorded_by_outgoing() -> None:
    msg = email.message_from_string(samples.ORIGINAL)
    found = attribute(msg, {"smtp_failures": {"a@example.com": [550, "no"]}})
    assert found.addresses == {"a@example.com"}
    assert found.source == "smtp"


def test_an_auto_reply_names_no_one() -> None:
    msg = email.message_from_bytes(samples.unrecognizable())
    assert attribute(msg, {}).addresses == frozenset()


def test_a_bounce_that_trips_a_detector_names_no_one() -> None:
    # flufl.bounce's Yale detector fails on a message without a From address.
    msg = email.message_from_bytes(b"To: dev-bounces@example.org\nSubject: x\n\nGone.\n")
    assert attribute(msg, {}) == Attribution(frozenset(), "scan")
