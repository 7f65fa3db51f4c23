"""The master's heap before a fork: no free chunk left below the top for a runner to fill."""

from __future__ import annotations

import subprocess
import sys

# In a process of its own: one that ran threads has arenas besides the main heap, whose
# free chunks mallinfo2 counts too but a fill from the main thread never reaches.
SCRIPT = """
from posthorn.runners.heap import fill_holes, libc
library = libc()
if library is None or not hasattr(library, "mallinfo2"):
    print("skip")
    raise SystemExit
# Holes of many sizes: every other block freed, between blocks that stay.
blocks = [bytearray(size) for size in range(600, 60000, 350)]
kept = blocks[::2]
del blocks
before = library.mallinfo2()
fill_holes()
after = library.mallinfo2()
print(before.fordblks - before.keepcost, after.fordblks - after.keepcost)
"""


def test_fill_holes_leaves_only_the_top_chunk_free() -> None:
    output = subprocess.run(
        [sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True
    ).stdout.split()
    if output == ["skip"]:
        return
    holes_before, holes_after = map(int, output)
    assert holes_before > 0
    assert holes_after == 0


POOLS_SCRIPT = """
import sys
from posthorn.runners.heap import fill_pools, pool_vacancies
if not pool_vacancies():
    print("skip")
    raise SystemExit
# Holes in many pools: every other object of a few sizes freed, between ones that stay.
objects = [bytes(n) for n in (15, 47, 111, 207) for _ in range(4000)]
kept = objects[::2]
del objects
before = pool_vacancies()
fill_pools()
after = pool_vacancies()
print(" ".join(f"{size}:{before.get(size, 0)}:{after.get(size, 0)}" for size in (48, 80, 144, 240)))
"""
# Blocks of one size in one 16 KiB pool, its header aside (CPython 3.11).
POOL_SIZE = 16 * 1024


def test_fill_pools_leaves_free_blocks_only_in_the_last_pool_of_each_size() -> None:
    output = subprocess.run(
        [sys.executable, "-c", POOLS_SCRIPT], check=True, capture_output=True, text=True
    ).stdout.split()
    if output == ["skip"]:
        return
    for row in output:
        size, before, after = map(int, row.split(":"))
        # The holes were spread over many pools; what is left fits in one.
        assert before > POOL_SIZE // size
        assert after <= POOL_SIZE // size


TYPE_CACHE_SCRIPT = """
import sys
from posthorn.runners.heap import freeze_heap
name = sys.intern("attribute_" + "of_a_class_made_here")
cls = type("Made", (), {name: 1})
before = sys.getrefcount(name)
getattr(cls, name)
cached = sys.getrefcount(name)
freeze_heap()
print(before, cached, sys.getrefcount(name))
"""


def test_freeze_heap_lets_go_of_the_names_in_the_type_lookup_cache() -> None:
    before, cached, after = map(
        int,
        subprocess.run(
            [sys.executable, "-c", TYPE_CACHE_SCRIPT], check=True, capture_output=True, text=True
        ).stdout.split(),
    )
    # The lookups' cache entries hold the name; a runner replacing one would write to it.
    assert cached > before
    assert after == before


NO_TEMPORARY_FOLDER_SCRIPT = """
import tempfile
from posthorn.runners.heap import fill_pools, pool_vacancies
tempfile.tempdir = "/nonexistent/folder"
fill_pools()
print(pool_vacancies())
"""


def test_without_a_temporary_folder_the_pools_are_left_as_they_are() -> None:
    # The master starts all the same: filling the pools is only a saving.
    output = subprocess.run(
        [sys.executable, "-c", NO_TEMPORARY_FOLDER_SCRIPT],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert output.strip() == "{}"
