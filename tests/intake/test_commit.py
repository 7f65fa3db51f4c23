"""Group commit: one sync covers every waiter left while the sync before it ran."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from posthorn.intake.commit import GroupCommit

WAIT = 5.0


class Gate:
    """A sync that counts its calls and, while ``hold`` is set, waits to be released."""

    def __init__(self) -> None:
        self.calls = 0
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.hold = True

    def __call__(self) -> None:
        self.calls += 1
        self.started.release()
        if self.hold:
            assert self.release.acquire(timeout=WAIT)


class Answers:
    """What ``deliver`` was given: each call's waiters and error, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], Exception | None]] = []
        self.lock = threading.Lock()

    def __call__(self, waiters: list[int], error: Exception | None) -> None:
        with self.lock:
            self.calls.append((list(waiters), error))

    def outcome(self, waiter: int) -> Exception | None:
        (error,) = [error for waiters, error in self.calls if waiter in waiters]
        return error


def run(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_waiters_left_during_a_sync_share_the_next_one_and_their_writers_go_on() -> None:
    gate = Gate()
    answers = Answers()
    commit = GroupCommit(gate, answers)
    first = run(lambda: commit.commit(0))
    assert gate.started.acquire(timeout=WAIT)
    # Six arrive while the first sync runs: it may not cover their writes.  None of
    # them waits; they return at once.
    for waiter in range(1, 7):
        commit.commit(waiter)
    assert answers.calls == []
    gate.hold = False
    gate.release.release()
    first.join(WAIT)
    assert answers.calls == [([0], None), ([1, 2, 3, 4, 5, 6], None)]
    assert gate.calls == commit.syncs == 2


def test_a_lone_writer_syncs_at_once() -> None:
    gate = Gate()
    gate.hold = False
    answers = Answers()
    commit = GroupCommit(gate, answers)
    for waiter in range(3):
        commit.commit(waiter)
        assert answers.calls[-1] == ([waiter], None)
    assert gate.calls == 3


def test_a_failed_sync_fails_its_batch_only() -> None:
    failures = [OSError(5, "I/O error")]
    started = threading.Event()
    release = threading.Event()

    def sync() -> None:
        started.set()
        assert release.wait(WAIT)
        if failures:
            raise failures.pop()

    answers = Answers()
    commit = GroupCommit(sync, answers)
    first = run(lambda: commit.commit(0))
    assert started.wait(WAIT)
    for waiter in (1, 2, 3):
        commit.commit(waiter)
    release.set()
    first.join(WAIT)
    assert isinstance(answers.outcome(0), OSError)
    assert [answers.outcome(waiter) for waiter in (1, 2, 3)] == [None] * 3


def test_every_waiter_is_answered_once_by_a_sync_that_started_after_it() -> None:
    lock = threading.Lock()
    started: list[int] = []
    # waiter -> syncs started when its commit was called
    before: dict[int, int] = {}
    covered: dict[int, int] = {}

    def sync() -> None:
        with lock:
            started.append(len(started) + 1)
        threading.Event().wait(0.002)

    def deliver(waiters: list[int], error: Exception | None) -> None:
        with lock:
            for waiter in waiters:
                assert waiter not in covered, "answered twice"
                covered[waiter] = len(started)

    commit = GroupCommit(sync, deliver)

    def writer(first: int) -> None:
        for waiter in range(first, first + 20):
            with lock:
                before[waiter] = len(started)
            commit.commit(waiter)

    threads = [run(lambda first=first: writer(first)) for first in range(0, 160, 20)]
    for thread in threads:
        thread.join(30)
    assert sorted(covered) == list(range(160))
    assert all(covered[waiter] > before[waiter] for waiter in covered)
    assert commit.syncs == len(started) < 160


def test_syncs_never_overlap() -> None:
    running = threading.Semaphore(1)

    def sync() -> None:
        assert running.acquire(blocking=False), "two syncs at once"
        threading.Event().wait(0.001)
        running.release()

    answers = Answers()
    commit = GroupCommit(sync, answers)
    threads = [run(lambda waiter=waiter: commit.commit(waiter)) for waiter in range(20)]
    for thread in threads:
        thread.join(WAIT)
    assert sorted(w for waiters, _ in answers.calls for w in waiters) == list(range(20))
    assert all(error is None for _, error in answers.calls)


def test_an_interrupted_sync_fails_its_waiters_and_those_behind_it() -> None:
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def sync() -> None:
        calls.append(1)
        started.set()
        assert release.wait(WAIT)
        raise KeyboardInterrupt

    answers = Answers()
    commit = GroupCommit(sync, answers)
    interrupted: list[BaseException] = []

    def first() -> None:
        try:
            commit.commit(0)
        except KeyboardInterrupt as error:
            interrupted.append(error)

    thread = run(first)
    assert started.wait(WAIT)
    commit.commit(1)
    release.set()
    thread.join(WAIT)
    # The thread running the sync sees the interrupt; its waiter and the one left
    # behind it are failed, not left waiting for a sync nobody runs.
    assert len(interrupted) == 1
    assert isinstance(answers.outcome(0), OSError)
    assert isinstance(answers.outcome(1), OSError)
    # The next writer runs a sync of its own.
    with pytest.raises(KeyboardInterrupt):
        commit.commit(2)
    assert len(calls) == 2
