"""Entry names: ``<time>+<sha1 hex>``, sorted by arrival, spread over slices by the hash.

The time part is ``time.time_ns()`` zero-padded to 20 digits, so a plain sort of the
names is arrival order (until the year 5138).  The hash is SHA-1 over the message bytes,
the time, the host, the process id and a per-process counter, so two writers never pick
the same name even for the same message in the same nanosecond.

Slices: with ``count = 2**k`` readers on one directory, reader ``s`` owns the names whose
hash, read as a 160-bit number ``h``, gives ``h * count >> 160 == s`` -- the top ``k``
bits of the hash.  Each name belongs to exactly one slice, and slice ``s`` of ``count``
splits into slices ``2s`` and ``2s + 1`` of ``2 * count``.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import socket
from typing import TypeGuard

TIME_DIGITS = 20
HASH_BITS = 160

_NAME = re.compile(r"\A(\d{20})\+([0-9a-f]{40})\Z")
# A queue's name, as metadata names it: one path component, never "." or "..".
_QUEUE_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_HOST = socket.gethostname().encode("utf-8", "surrogateescape")

# itertools.count is advanced atomically under the GIL, so threads sharing this module
# still get distinct values; a forked child gets a different pid.
_counter = itertools.count()


def make_filebase(data: bytes | bytearray, now_ns: int) -> str:
    """Return a fresh, unique name for an entry holding ``data`` written at ``now_ns``."""
    digest = hashlib.sha1(data, usedforsecurity=False)
    digest.update(b"\0%d\0%s\0%d\0%d" % (now_ns, _HOST, os.getpid(), next(_counter)))
    return f"{now_ns:0{TIME_DIGITS}d}+{digest.hexdigest()}"


def is_queue_name(name: object) -> TypeGuard[str]:
    """True for a plain queue name: where an entry's metadata says it goes, never a path."""
    return isinstance(name, str) and _QUEUE_NAME.match(name) is not None


def is_power_of_two(count: int) -> bool:
    """True for 1, 2, 4, 8, ...: the only instance counts that cut the hash space evenly."""
    return count > 0 and count & (count - 1) == 0


def slice_of(filebase: str, count: int) -> int:
    """The slice (0 <= slice < count) that owns ``filebase``.

    A name that does not follow the pattern (put there by hand, say) belongs to slice 0,
    so that some reader still looks at it rather than none.
    """
    match = _NAME.match(filebase)
    if match is None:
        return 0
    return int(match.group(2), 16) * count >> HASH_BITS


def arrival_ns(filebase: str) -> int | None:
    """The enqueue time encoded in the name, or None for a name not made here."""
    match = _NAME.match(filebase)
    return int(match.group(1)) if match else None
