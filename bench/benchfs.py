"""File-system helpers for the benches: what creating a file costs here, and a folder
whose sub-folders ext4 spreads over block groups.

On ext4 without a journal, creating a file walks the inodes of its block group freed in
the last minutes (``recently_deleted`` in the kernel's inode allocator), so a bench
that runs where an earlier run cleaned up measures that walk more than itself.
"""

from __future__ import annotations

import array
import fcntl
import os
import time
from pathlib import Path

__all__ = ["create_cost", "spread"]

# ioctl(2) requests and the flag of chattr +T (linux/fs.h).
FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_TOPDIR_FL = 0x00020000


def create_cost(directory: Path, count: int = 50) -> float:
    """The median CPU, in microseconds, of creating an empty file in ``directory``."""
    directory.mkdir()
    costs = []
    for number in range(count):
        started = time.thread_time()
        os.close(os.open(directory / str(number), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        costs.append(time.thread_time() - started)
    return sorted(costs)[count // 2] * 1e6


def spread(directory: Path) -> bool:
    """Mark ``directory`` a top of directory hierarchies for ext4's Orlov allocator
    (``chattr +T``): each folder made in it then goes to a block group chosen afresh,
    not next to the folders of earlier runs.  False where the flag cannot be set."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, flags, True)
        flags[0] |= FS_TOPDIR_FL
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, flags, True)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
