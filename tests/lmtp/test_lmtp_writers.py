"""The LMTP runner's writer threads: every job runs once, a failing one is logged."""

from __future__ import annotations

import logging
import threading

import pytest

from posthorn.intake.writers import Writers

log = logging.getLogger("posthorn.lmtp")


def test_every_job_runs_once_and_closing_lets_them_finish() -> None:
    writers = Writers(3, "test-write", log)
    done: list[int] = []
    lock = threading.Lock()

    def job(number: int) -> None:
        with lock:
            done.append(number)

    for number in range(100):
        writers.submit(job, number)
    writers.close()
    for thread in writers._threads:
        thread.join(10)
    assert sorted(done) == list(range(100))
    with pytest.raises(RuntimeError):
        writers.submit(job, 100)


def test_a_failing_job_is_logged_and_the_thread_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    writers = Writers(1, "test-write", log)
    ran = threading.Event()

    def broken() -> None:
        raise OSError("disk on fire")

    with caplog.at_level(logging.ERROR, "posthorn.lmtp"):
        writers.submit(broken)
        writers.submit(ran.set)
        assert ran.wait(10)
        writers.close()
    assert "disk on fire" in caplog.text
