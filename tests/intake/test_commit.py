"""Group commit: one sync covers every caller that was waiting when it started."""

from __future__ import annotations

import asyncio
import threading

import pytest

from posthorn.intake.commit import GroupCommit


def test_callers_waiting_together_share_one_sync() -> None:
    calls: list[int] = []
    commit = GroupCommit(lambda: calls.append(1))

    async def main() -> None:
        await asyncio.gather(*(commit.commit() for _ in range(10)))

    asyncio.run(main())
    assert len(calls) == 1


def test_a_caller_arriving_during_a_sync_waits_for_the_next_one() -> None:
    release = threading.Event()
    started = threading.Event()
    calls: list[int] = []

    def sync() -> None:
        calls.append(1)
        started.set()
        assert release.wait(5)

    commit = GroupCommit(sync)

    async def main() -> None:
        first = asyncio.create_task(commit.commit())
        await asyncio.to_thread(started.wait, 5)
        # These arrive while the first sync runs: it may not cover their writes.
        late = [asyncio.create_task(commit.commit()) for _ in range(5)]
        await asyncio.sleep(0)  # one turn of the loop: the late tasks start and wait
        assert not any(task.done() for task in late)
        release.set()
        await asyncio.gather(first, *late)

    asyncio.run(main())
    assert len(calls) == 2


def test_a_failed_sync_fails_its_batch_only() -> None:
    outcomes = iter([OSError(5, "I/O error"), None])

    def sync() -> None:
        error = next(outcomes)
        if error is not None:
            raise error

    commit = GroupCommit(sync)

    async def main() -> None:
        results = await asyncio.gather(commit.commit(), commit.commit(), return_exceptions=True)
        assert all(isinstance(result, OSError) for result in results)
        await commit.commit()

    asyncio.run(main())


def test_a_cancelled_caller_does_not_stop_the_sync() -> None:
    calls: list[int] = []
    release = threading.Event()
    started = threading.Event()

    def sync() -> None:
        started.set()
        assert release.wait(5)
        calls.append(1)

    commit = GroupCommit(sync)

    async def main() -> None:
        gone = asyncio.create_task(commit.commit())
        staying = asyncio.create_task(commit.commit())
        # Cancelled while the sync runs: that sync must still complete.
        assert await asyncio.to_thread(started.wait, 5)
        gone.cancel()
        release.set()
        await staying
        with pytest.raises(asyncio.CancelledError):
            await gone

    asyncio.run(main())
    assert calls == [1]
