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
