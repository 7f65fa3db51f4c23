"""The LMTP runner's writer threads: every job runs once, a failing one is logged, and a
thread starts only when a job finds none free."""

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


def test_a_thread_starts_only_when_a_job_finds_none_free() -> None:
    writers = Writers(3, "test-write", log)
    for _ in range(20):  # one after the other: one thread serves them all
        ran = threading.Event()
        writers.submit(ran.set)
        assert ran.wait(10)
    assert len(writers._threads) == 1
    release = threading.Event()
    started = threading.Semaphore(0)

    def blocked() -> None:
        started.release()
        release.wait(10)

    for _ in range(5):  # at once: a thread each, up to the limit
        writers.submit(blocked)
    for _ in range(3):
        assert started.acquire(timeout=10)
    assert len(writers._threads) == 3
    release.set()
    writers.close()
    for thread in writers._threads:
        thread.join(10)
        assert not thread.is_alive()
