"""What the master does to its heap before forking, so that a runner copies little of it.

A runner shares the master's memory page by page until one of them writes to a page;
then that page is copied, and the copy counts against the runner.  Two kinds of write
would copy much of the heap for little reason:

- the collector marking every object it visits (``freeze_heap`` puts the master's
  objects where the collector does not look);
- the C allocator handing out the master's free chunks.  The master's heap has a
  couple of thousand small holes spread over all its pages; a runner's first
  allocations (a database connection parsing the schema, say) fill them one per page,
  copying some 700 pages where fresh memory would have needed a few dozen.
  ``fill_holes`` allocates them in the master, so that a runner's allocations come
  from the top of the heap;
- Python's own allocator handing out the free blocks of the master's pools, the same
  way: ``fill_pools`` takes them in the master.

``return_large_blocks`` is the runner's own setting of the same allocator.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import os
import re
import sys
import tempfile

from posthorn.clibrary import c_library

__all__ = [
    "fill_holes",
    "fill_pools",
    "freeze_heap",
    "libc",
    "pool_vacancies",
    "return_large_blocks",
]

M_MMAP_THRESHOLD = -3
# Blocks at least this large get a mapping of their own, returned to the system on free.
MMAP_THRESHOLD = 128 * 1024
# Sizes asked of malloc when filling holes, largest first: every class of glibc's
# per-thread cache (chunks of 32 to 1040 bytes), then powers of two up to 64 KiB.
_HOLE_SIZES = [1 << k for k in range(16, 10, -1)] + list(range(1032, 0, -16))


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


@functools.cache
def libc() -> ctypes.CDLL | None:
    """The C library with its allocator's calls typed, once (in the master: every
    runner shares the handle)."""
    library = c_library()
    if library is None:
        return None
    with contextlib.suppress(AttributeError):
        library.malloc.restype = ctypes.c_void_p
        library.malloc.argtypes = [ctypes.c_size_t]
        library.free.argtypes = [ctypes.c_void_p]
        library.sbrk.restype = ctypes.c_void_p
        library.sbrk.argtypes = [ctypes.c_ssize_t]
        library.mallinfo2.restype = _MallInfo2
    return library


def freeze_heap() -> None:
    """Prepare the master's heap for a fork: objects frozen, the allocator's holes filled.

    Frozen: a child's first full collection would write to every page holding a
    container (the collector marks each object it visits), copying them all: some
    35 MiB per runner.  Frozen, those objects are never visited; what the child
    allocates itself is still collected.

    The interpreter's cache of attribute lookups on types is emptied first: each of its
    4096 entries holds a reference to the attribute's name, and a runner's lookups
    replacing the master's entries would write to the names they drop, copying a page
    for each, besides those of the names they add.  Emptied, ``bench/memory_bench.py
    site`` gave 116 MiB at start instead of 122, 185 after posts instead of 190.
    """
    gc.collect()
    sys._clear_type_cache()
    gc.freeze()
    fill_holes()


# One line of sys._debugmallocstats' table: class, block size, pools, blocks used, free.
_POOL_ROW = re.compile(rb"^\s*\d+\s+(\d+)\s+\d+\s+\d+\s+(\d+)\s*$", re.MULTILINE)
# The blocks fill_pools took, kept for the master's life.
_taken: list[object] = []


def pool_vacancies() -> dict[int, int]:
    """Free blocks in the pools of Python's small-object allocator, by block size.

    CPython prints them only to the C library's standard error (``sys._debugmallocstats``),
    so that is pointed at a file for the call.  Another interpreter, or no file to be
    had (a full or unwritable temporary folder): none known, and nothing is filled.
    """
    stats = getattr(sys, "_debugmallocstats", None)
    if stats is None:
        return {}
    try:
        with tempfile.TemporaryFile() as table:
            saved = os.dup(2)
            try:
                os.dup2(table.fileno(), 2)
                stats()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            table.seek(0)
            rows = _POOL_ROW.findall(table.read())
    except OSError:
        return {}
    return {int(size): int(free) for size, free in rows if int(free)}


def _block(size: int, n: int) -> object:
    """A new object that takes one block of ``size`` bytes of the small-object allocator."""
    if size <= 16:
        return object()
    if size <= 32:
        return 2**20 + n  # an int of one digit: 28 bytes
    return bytes(size - sys.getsizeof(b""))


def fill_pools() -> None:
    """Take, and keep, every free block in the master's pools of Python's allocator.

    A pool is 16 KiB of blocks of one size; after the master's collection many are
    partly free, a few blocks each, one per page here and there.  A runner's small
    objects would go to those first, copying a page of the master's for each block;
    taken, they come from pools of the runner's own.  The blocks cost nothing that the
    master does not map already, but for the rest of the pool each size is filling.

    Once per preloaded heap, not before every fork: a runner restarted later shares the
    pools with runners still running, and their last pools' rest would be taken anew.
    """
    gc.collect()
    vacancies = pool_vacancies()
    blocks: list[object] = [None] * sum(vacancies.values())
    i = 0
    for size, free in vacancies.items():
        for n in range(free):
            blocks[i] = _block(size, n)
            i += 1
    _taken.append(blocks)


def fill_holes() -> None:
    """Allocate, and keep, every free chunk of the master's heap below its top.

    Kept, not freed: they are a few hundred KiB, shared with every runner like the rest
    of the master's heap.  Only glibc's main heap is known here; elsewhere, nothing.
    """
    library = libc()
    if library is None or not hasattr(library, "mallinfo2"):
        return
    for size in _HOLE_SIZES:
        # The top chunk ends at the program break; what malloc returns below its start
        # came from a hole.
        top = library.sbrk(0) - library.mallinfo2().keepcost
        while True:
            block = library.malloc(size)
            if not block:
                return
            if block >= top:
                library.free(block)
                break


def return_large_blocks() -> None:
    """Have glibc map every large block on its own, so that freeing it shrinks the process.

    By default glibc raises that threshold to the size of each mapped block freed (up
    to 32 MiB), so after one large message the next ones come from the heap, which
    keeps what it held: a runner that had handled a 10 MiB post and then a digest of
    it peaked at twice the memory either needed.  Setting the threshold fixes it.
    Fewer malloc arenas (``M_ARENA_MAX`` 2) were measured too, with
    ``bench/memory_bench.py site``: the site's PSS moved by less than the run-to-run
    noise (307 and 312 MiB after posts), so glibc's default stays.
    """
    library = libc()
    # Not glibc: its allocator has its own policy.
    with contextlib.suppress(AttributeError):
        if library is not None:
            library.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
