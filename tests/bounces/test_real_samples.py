"""Real bounces from the wild, over LMTP to ``-bounces``: the right members are scored.

The samples are the ones the flufl.bounce source distribution ships for its own tests
(``make samples`` unpacks them into ``<prefix>/share/bounce-samples``).  flufl.bounce is
the oracle for which addresses a sample names; what is tested here is the rest of the
way: the LMTP runner queues the bounce, the bounce runner attributes it to the list's
members and scores them, and nobody else.

Every sample in which flufl.bounce finds a permanent failure is used.  The addresses of
all but one are subscribed; the remaining sample names only strangers, so it is an
unrecognised bounce and goes where ``forward_unrecognized_bounces_to`` says (the list's
administrators).  Samples with only delay warnings or no detectable address are left
out: they name no one by design and the hand-made samples cover that case.
"""

from __future__ import annotations

import email
import re
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flufl.bounce import scan_message

from posthorn.address import validate_email
from posthorn.errors import InvalidAddressError
from posthorn.model.bounces import BounceRecords
from posthorn.queues import Switchboard
from posthorn.site import Site
from tests.bounces.test_bounce_master import DEADLINE
from tests.sites import master_with_sink, open_site
from tests.smtpsink import SMTPSink
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

SAMPLES = Path(sys.prefix) / "share" / "bounce-samples"
if not SAMPLES.is_dir():
    pytest.skip(
        f"no real bounce samples in {SAMPLES}; `make samples` unpacks them from the "
        "flufl.bounce source distribution",
        allow_module_level=True,
    )

LIST = "dev@example.org"
LIST_ID = "dev.example.org"
OWNER = "owner@example.org"
# Subscribed, but named by no sample: they must not be scored.
BYSTANDERS = ["bystander@example.com", "userx@example.org"]
# A Postfix bounce naming one address that no other sample names; it is not subscribed.
STRANGERS_SAMPLE = "postfix_02.txt"
RUNNING = ("lmtp", "bounce", "virgin", "outgoing", "retry")
UNRECOGNISED = "Uncaught bounce notification for Dev"


@dataclass(frozen=True)
class Sample:
    name: str
    content: bytes
    addresses: frozenset[str]


def detected() -> list[Sample]:
    """Every sample in which flufl.bounce finds a permanent failure, with its addresses."""
    found = []
    for path in sorted(SAMPLES.glob("*.txt")):
        content = path.read_bytes()
        addresses = scan_message(email.message_from_bytes(content))
        if addresses:
            named = frozenset(address.decode("utf-8", "replace") for address in addresses)
            found.append(Sample(path.name, content, named))
    return found


def subscribable(sample: Sample) -> bool:
    try:
        for address in sample.addresses:
            validate_email(address)
    except InvalidAddressError:
        return False
    return True


ALL = detected()
# simple_42 names Google Groups' masked "david...@gmail.com", which no one can subscribe.
MEMBER_SAMPLES = [sample for sample in ALL if sample.name != STRANGERS_SAMPLE
                  and subscribable(sample)]  # fmt: skip
(STRANGERS,) = [sample for sample in ALL if sample.name == STRANGERS_SAMPLE]
MEMBERS = frozenset().union(*(sample.addresses for sample in MEMBER_SAMPLES))
EXPECTED = frozenset(address.lower() for address in MEMBERS)


@dataclass
class Run:
    """The master after every sample has been delivered, and where to look."""

    site_file: Path
    var_dir: Path
    sink: SMTPSink

    def scores(self) -> dict[str, int]:
        with open_site(self.site_file) as site:
            records = BounceRecords(site.databases.session_factory("list"))
            return {state.email: state.score for state in records.for_list(LIST_ID)}

    def queue(self, name: str) -> list[str]:
        return list(Switchboard(self.var_dir / "queue" / name).files)

    def log(self) -> str:
        path = self.var_dir / "logs" / "bounce.log"
        return path.read_text(errors="replace") if path.exists() else ""


def arrange(site: Site) -> None:
    site.lists.create(LIST, owners=[OWNER])
    # One subscription per address: samples spell some domains in capitals
    # (userx@example.COM), and those bounces must find userx@example.com.
    spellings = {address.lower(): address for address in sorted(MEMBERS, reverse=True)}
    for address in [*spellings.values(), *BYSTANDERS]:
        site.lists.subscribe(LIST, address)
    # No one is disabled on the way: every sample raises a score by at most one.
    site.lists.update(LIST, bounce_score_threshold=100,
                      forward_unrecognized_bounces_to="administrators")  # fmt: skip


def crlf(content: bytes) -> bytes:
    """The sample with CRLF line ends, as it would travel over LMTP."""
    return re.sub(rb"\r?\n", b"\r\n", content)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("real-bounces")
    extra = {"mta": {"max_message_size": 0}, "runner.bounce": {"start": "yes"}}
    with master_with_sink(tmp, running=RUNNING, arrange=arrange, extra_sections=extra,
                          output=subprocess.DEVNULL) as (path, lmtp_port, sink):  # fmt: skip
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
            for sample in [*MEMBER_SAMPLES, STRANGERS]:
                refused = lmtp.sendmail("", ["dev-bounces@example.org"], crlf(sample.content))
                assert refused == {}, f"{sample.name}: {refused}"
        result = Run(path, tmp / "var", sink)
        wait_for(lambda: not result.queue("bounce") or None, "the bounce queue to drain", DEADLINE)
        yield result


def forwards_to_owner(sink: SMTPSink) -> list[email.message.Message]:
    with sink.lock:
        received = list(sink.received)
    found = []
    for _, rcpts, content in received:
        msg = email.message_from_bytes(content)
        if OWNER in rcpts and msg["subject"] == UNRECOGNISED:
            found.append(msg)
    return found


def test_the_samples_are_many_and_varied() -> None:
    # Guards the oracle: a flufl.bounce that found nothing would make the rest vacuous.
    assert len(MEMBER_SAMPLES) >= 90
    assert len(EXPECTED) >= 50
    assert not STRANGERS.addresses & MEMBERS


def test_every_named_member_is_scored(run: Run) -> None:
    wait_for(lambda: run.scores().keys() >= EXPECTED or None, "every member's score", DEADLINE)
    scores = run.scores()
    missed = {sample.name: sorted(sample.addresses) for sample in MEMBER_SAMPLES
              if not {a.lower() for a in sample.addresses} <= scores.keys()}  # fmt: skip
    assert missed == {}, run.log()
    # A score counts days with bounces: at most two if the run straddles midnight.
    assert all(scores[address] in (1, 2) for address in EXPECTED)
    assert run.queue("shunt") == []


def test_no_one_else_is_scored(run: Run) -> None:
    wait_for(lambda: run.scores().keys() >= EXPECTED or None, "every member's score", DEADLINE)
    assert set(run.scores()) == EXPECTED
    assert not set(BYSTANDERS) & run.scores().keys()


def test_a_bounce_naming_only_strangers_goes_to_the_owners(run: Run) -> None:
    found = wait_for(lambda: forwards_to_owner(run.sink) or None, "the forwarded bounce", DEADLINE)
    (notice,) = found
    # The first attachment is the bounce itself; the parts nested in it come after.
    attached = [part for part in notice.walk() if part.get_content_type() == "message/rfc822"]
    original = attached[0].get_payload(0)
    assert isinstance(original, email.message.Message)
    assert original["message-id"] == email.message_from_bytes(STRANGERS.content)["message-id"]
    assert not {a.lower() for a in STRANGERS.addresses} & run.scores().keys()
