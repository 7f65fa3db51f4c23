"""The retry runner across restarts: an entry waiting to be due is never used up by them."""

from __future__ import annotations

import time
from email.message import EmailMessage

from posthorn.queues import Switchboard
from posthorn.runners.base import ExitCode
from posthorn.runners.retry import RetryRunner
from tests.conftest import ConfigFactory, SiteFactory


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "poster@example.net"
    msg["Subject"] = "waiting"
    msg["Message-ID"] = "<waiting@example.net>"
    msg.set_content("Hello.\n")
    return msg


def _run_until_it_waits(runner: RetryRunner) -> ExitCode:
    """Run the real loop once round: it takes what is queued, then is told to stop."""

    def stop_instead_of_waiting(timeout: float | None = None) -> None:
        runner._stopping = True

    runner._wait = stop_instead_of_waiting  # type: ignore[method-assign]
    try:
        return runner.run()
    finally:
        runner.close()


def test_stopping_puts_back_entries_not_yet_due(
    make_config: ConfigFactory, make_site: SiteFactory
) -> None:
    site = make_site(make_config({}))
    queue_dir = site.config.path("queue_dir")
    retry = Switchboard(queue_dir / "retry", name="retry")
    due = time.time() + 3600
    retry.enqueue(_message(), {"retry_queue": "outgoing", "retry_after": due, "retries": 1})
    # More clean stops and starts than a queue allows unfinished attempts.
    for _ in range(retry.max_attempts + 1):
        assert _run_until_it_waits(RetryRunner(site, "retry")) == ExitCode.OK
        # Nothing is left claimed: the next start has nothing to recover.
        assert not list((queue_dir / "retry").glob("*.bak"))
    (filebase,) = retry.get_files()
    _, msgdata = retry.dequeue_raw(filebase)
    assert "queue_attempts" not in msgdata
    assert (msgdata["retry_after"], msgdata["retries"]) == (due, 1)
    assert not (queue_dir / "shunt").exists() or not list((queue_dir / "shunt").iterdir())
