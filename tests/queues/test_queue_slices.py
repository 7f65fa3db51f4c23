"""Slices: every entry belongs to exactly one reader, and concurrent readers never collide."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from posthorn.queues import Switchboard
from posthorn.queues.naming import make_filebase, slice_of

if TYPE_CHECKING:
    from conftest import Workers

pytestmark = pytest.mark.timeout(60)

hashes = st.binary(min_size=20, max_size=20).map(bytes.hex)
powers = st.integers(min_value=0, max_value=8).map(lambda k: 2**k)


@given(hashes, powers)
def test_every_name_belongs_to_exactly_one_slice(digest: str, count: int) -> None:
    filebase = f"{time.time_ns():020d}+{digest}"
    owners = [s for s in range(count) if slice_of(filebase, count) == s]
    assert len(owners) == 1


@given(hashes, powers)
def test_doubling_the_count_splits_each_slice_in_two(digest: str, count: int) -> None:
    filebase = f"{time.time_ns():020d}+{digest}"
    assert slice_of(filebase, 2 * count) in (
        2 * slice_of(filebase, count),
        2 * slice_of(filebase, count) + 1,
    )


@given(st.text(max_size=80), powers)
def test_foreign_names_belong_to_slice_zero(name: str, count: int) -> None:
    assume(not re.fullmatch(r"\d{20}\+[0-9a-f]{40}", name))
    assert slice_of(name, count) == 0


def test_names_spread_over_slices() -> None:
    seen = {slice_of(make_filebase(b"same message", time.time_ns()), 8) for _ in range(400)}
    assert seen == set(range(8))


def test_readers_see_only_their_slice(queue_root: Path) -> None:
    writer = Switchboard(queue_root / "incoming")
    filebases = writer.enqueue_many([(b"Subject: x\n\n", {"n": n}) for n in range(64)])
    readers = [Switchboard(queue_root / "incoming", slice=s, count=4) for s in range(4)]
    listings = [reader.files for reader in readers]
    assert sorted(f for listing in listings for f in listing) == sorted(filebases)
    for s, listing in enumerate(listings):
        assert all(slice_of(f, 4) == s for f in listing)


@pytest.mark.slow
def test_concurrent_readers_process_each_entry_exactly_once(
    queue_root: Path, tmp_path: Path, workers: Workers
) -> None:
    count = 4
    queue_dir = queue_root / "incoming"
    writer = Switchboard(queue_dir)
    stop = tmp_path / "stop"
    outs = [tmp_path / f"slice-{s}.txt" for s in range(count)]
    # Half the entries wait before the readers start, half arrive while they run.
    expected = writer.enqueue_many([(b"Subject: early\n\n", {"n": n}) for n in range(200)])
    processes = [
        workers.start(
            "drain",
            *("--dir", str(queue_dir), "--slice", str(s), "--count", str(count)),
            *("--out", str(outs[s]), "--stop", str(stop)),
        )
        for s in range(count)
    ]
    for n in range(200, 400):
        expected.append(writer.enqueue(b"Subject: late\n\n", {"n": n}))
    stop.touch()
    for process in processes:
        assert process.wait(timeout=30) == 0

    done = [out.read_text().split() for out in outs]
    every = [filebase for listing in done for filebase in listing]
    assert len(every) == len(set(every)) == 400
    assert set(every) == set(expected)
    for s, listing in enumerate(done):
        assert listing and all(slice_of(f, count) == s for f in listing)
    assert writer.entries() == []
