"""An MTA that closes idle clients: the first post after an idle spell is not delayed.

The sink ends a connection idle for 3 s, silently or as Postfix does (``421 4.4.2
Error: timeout exceeded``, then close).  Before, the outgoing runner reused the dead
pooled connection, failed the batch with 451 and waited ``retry_base`` (here 60 s, in
production 15 min).  Now a reused connection that fails before MAIL FROM is replaced
and the batch sent at once; and with ``idle_timeout`` below the MTA's timeout the
runner closes idle connections itself (QUIT), before the MTA would.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from tests.faults.stack import FaultHandler, FaultSink, Poster, Stack, build
from tests.waiting import wait_for

# Ten times the runner's idle_timeout below: closing first must not depend on how
# promptly a loaded machine runs the runner.
MTA_IDLE_TIMEOUT = 3.0
# A retry would wait this long; a post that arrives well within it was not retried
# (polled: a post passes four runners, which takes seconds on a loaded machine).
RETRY_BASE = "60s"
PROMPT = 30.0


class _IdleClosingSMTP(SMTP):
    def __init__(self, sink: IdleClosingSink, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sink = sink

    def _timeout_cb(self) -> None:
        if self.sink.say_421 and self.transport is not None:
            self.transport.write(b"421 4.4.2 sink Error: timeout exceeded\r\n")
        super()._timeout_cb()  # type: ignore[misc]
        # Counted once the connection is closed, for a test that waits on the count.
        with self.sink.lock:
            self.sink.timeouts += 1

    async def smtp_QUIT(self, arg: str) -> None:
        with self.sink.lock:
            self.sink.quits += 1
        await super().smtp_QUIT(arg)


class IdleClosingSink(FaultSink):
    """The fault sink, ending connections idle for ``MTA_IDLE_TIMEOUT``."""

    def __init__(self, port: int, say_421: bool) -> None:
        super().__init__(port)
        self.say_421 = say_421
        self.timeouts = 0  # connections the sink closed for being idle
        self.quits = 0  # connections the client closed itself

    def start(self) -> None:
        sink = self

        class _Controller(Controller):
            def factory(self) -> SMTP:
                return _IdleClosingSMTP(sink, self.handler, **self.SMTP_kwargs)

        self._controller = _Controller(
            FaultHandler(self),
            hostname="127.0.0.1",
            port=self.port,
            decode_data=False,
            timeout=MTA_IDLE_TIMEOUT,
        )
        self._controller.start()


def _stack(tmp: Path, say_421: bool, idle_timeout: str) -> Stack:
    stack = build(
        tmp,
        3,
        extra={"runner.outgoing": {"retry_base": RETRY_BASE, "idle_timeout": idle_timeout}},
    )
    # The stack's own sink is swapped for one that closes idle connections.
    stack.sink.stop()
    stack.sink = IdleClosingSink(stack.sink.port, say_421)
    stack.sink.start()
    return stack


@pytest.mark.parametrize("say_421", [False, True], ids=["silent-close", "421-close"])
def test_a_connection_the_mta_closed_is_replaced_at_once(tmp_path: Path, say_421: bool) -> None:
    stack = _stack(tmp_path, say_421, idle_timeout="60s")
    assert isinstance(stack.sink, IdleClosingSink)
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        first = poster.post(0)
        assert not stack.wait_delivered([first], 30).missing
        sink = stack.sink
        wait_for(lambda: sink.timeouts >= 1, "the MTA closing the pooled connection", 30)
        started = time.monotonic()
        second = poster.post(1)
        outcome = stack.wait_delivered([second], PROMPT)
        delay = time.monotonic() - started
        print(f"after an idle spell ({'421' if say_421 else 'silent'} close): delivered in "
              f"{delay:.2f}s, missing {len(outcome.missing)}, "
              f"retry entries {len(stack.queue_files('retry'))}")  # fmt: skip
        assert outcome.missing == [], f"not delivered within {PROMPT}s (a retry waits 60s)"
        assert outcome.duplicates == 0
        assert "pooled connection was gone" in stack.log("smtp")
    finally:
        stack.stop()
        stack.sink.stop()


def test_idle_connections_are_closed_before_the_mta_times_out(tmp_path: Path) -> None:
    stack = _stack(tmp_path, True, idle_timeout="300ms")
    assert isinstance(stack.sink, IdleClosingSink)
    try:
        stack.start()
        poster = Poster(stack.lmtp_port)
        for n in range(3):
            mid = poster.post(n)
            assert not stack.wait_delivered([mid], 30).missing
            # Time passing is the scenario: an idle spell longer than the MTA's timeout.
            time.sleep(MTA_IDLE_TIMEOUT + 0.5)
        print(f"idle_timeout 300ms, MTA timeout {MTA_IDLE_TIMEOUT:g}s: "
              f"{stack.sink.quits} closed by the runner, "
              f"{stack.sink.timeouts} by the MTA")  # fmt: skip
        assert stack.sink.timeouts == 0
        assert stack.sink.quits >= 3
    finally:
        stack.stop()
        stack.sink.stop()
