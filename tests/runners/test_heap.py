"""The master's heap before a fork: no free chunk left below the top for a runner to fill."""

from __future__ import annotations

import pytest

from posthorn.runners.heap import fill_holes, libc


def test_fill_holes_leaves_only_the_top_chunk_free() -> None:
    library = libc()
    if library is None or not hasattr(library, "mallinfo2"):
        pytest.skip("not glibc 2.33 or later")
    # Holes of many sizes: every other block freed, between blocks that stay.
    blocks = [bytearray(size) for size in range(600, 60000, 350)]
    kept = blocks[::2]
    del blocks
    assert library.mallinfo2().fordblks > library.mallinfo2().keepcost
    fill_holes()
    info = library.mallinfo2()
    assert info.fordblks == info.keepcost
    del kept
