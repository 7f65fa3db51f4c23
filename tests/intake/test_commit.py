"""Group commit: one sync covers every writer that was waiting when it started."""

from __future__ import annotations

import threading
from collections.abc import Callable

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


def run(target: Callable[[], None], outcomes: list[BaseException | None]) -> threading.Thread:
    def body() -> None:
        try:
            target()
        except BaseException as error:
            outcomes.append(error)
        else:
            outcomes.append(None)

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def waiting(commit: GroupCommit, count: int) -> None:
    """Wait until ``count`` threads wait on the commit's condition."""
    condition = commit._changed
    for _ in range(int(WAIT / 0.01)):
        with condition:
            if len(condition._waiters) >= count:  # type: ignore[attr-defined]
                return
        threading.Event().wait(0.01)
    raise AssertionError(f"fewer than {count} waiters")


def behind_a_sync(
    commit: GroupCommit,
    started: Callable[[float], bool],
    count: int,
    outcomes: list[BaseException | None],
) -> list[threading.Thread]:
    """A first writer whose sync has begun (``started`` says so within a timeout), then
    ``count`` writers that arrive while it runs and wait; their threads, the first first."""
    first = run(commit.commit, outcomes)
    assert started(WAIT)
    late = [run(commit.commit, outcomes) for _ in range(count)]
    waiting(commit, count)
    return [first, *late]


def test_writers_arriving_during_a_sync_share_the_next_one() -> None:
    gate = Gate()
    commit = GroupCommit(gate)
    outcomes: list[BaseException | None] = []
    # Six arrive while the first sync runs: it may not cover their writes.
    threads = behind_a_sync(
        commit, lambda timeout: gate.started.acquire(timeout=timeout), 6, outcomes
    )
    assert outcomes == []
    gate.hold = False
    gate.release.release()
    for thread in threads:
        thread.join(WAIT)
    assert outcomes == [None] * 7
    # One sync for the first writer, one more for all six that came during it.
    assert gate.calls == commit.syncs == 2


def test_a_lone_writer_syncs_at_once() -> None:
    gate = Gate()
    gate.hold = False
    commit = GroupCommit(gate)
    for _ in range(3):
        commit.commit()
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

    commit = GroupCommit(sync)
    outcomes: list[BaseException | None] = []
    threads = behind_a_sync(commit, started.wait, 3, outcomes)
    release.set()
    for thread in threads:
        thread.join(WAIT)
    # The first writer's sync failed; the three behind it got a sync of their own.
    assert sum(isinstance(outcome, OSError) for outcome in outcomes) == 1
    assert outcomes.count(None) == 3
    commit.commit()


def test_many_writers_each_return_after_a_sync_that_started_after_them() -> None:
    lock = threading.Lock()
    started: list[int] = []

    def sync() -> None:
        with lock:
            started.append(len(started) + 1)
        threading.Event().wait(0.002)

    commit = GroupCommit(sync)
    errors: list[str] = []

    def writer() -> None:
        for _ in range(20):
            with lock:
                before = len(started)
            commit.commit()
            with lock:
                if len(started) <= before:
                    errors.append("returned without a sync started after the call")

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert commit.syncs == len(started) < 8 * 20


def test_syncs_never_overlap() -> None:
    running = threading.Semaphore(1)

    def sync() -> None:
        assert running.acquire(blocking=False), "two syncs at once"
        threading.Event().wait(0.001)
        running.release()

    commit = GroupCommit(sync)
    outcomes: list[BaseException | None] = []
    threads = [run(commit.commit, outcomes) for _ in range(20)]
    for thread in threads:
        thread.join(WAIT)
    assert outcomes == [None] * 20


def test_an_interrupted_sync_fails_its_waiters_and_the_next_sync_runs() -> None:
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def sync() -> None:
        calls.append(1)
        started.set()
        assert release.wait(WAIT)
        if len(calls) == 2:
            raise KeyboardInterrupt

    commit = GroupCommit(sync)
    outcomes: list[BaseException | None] = []
    # Two writers behind the first sync share the second, which is interrupted: the one
    # running it sees the interrupt, the other an error, and neither waits forever.
    threads = behind_a_sync(commit, started.wait, 2, outcomes)
    release.set()
    for thread in threads:
        thread.join(WAIT)
    names = sorted(type(outcome).__name__ for outcome in outcomes)
    assert names == ["KeyboardInterrupt", "NoneType", "OSError"]
    commit.commit()
    assert len(calls) == 3
