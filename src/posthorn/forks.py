"""Which fork of the process this is, so state kept across posts starts afresh in a child.

Runners are forked from a master that preloaded the heap.  Whatever a part keeps open
across posts (a SQLite connection, descriptors holding or about to hold locks, open
mailbox files, numbers reserved ahead) belongs to the process that opened it: a forked
child must never use its parent's, and must not close what the parent still uses
through it.  Such a part notes ``generation`` when it opens its state and, before each
use, drops that state if ``generation`` has changed since.

``generation`` goes up by one in every child ``os.fork`` makes, and nothing else runs
at the fork: the hook runs while locks held by the parent's other threads stay held in
the child, so it must take no lock and touch no file.  The part itself starts afresh at
its next use, under its own locks.  The check costs a read of a module attribute, where
``os.getpid()`` costs a call and a system call.
"""

from __future__ import annotations

import os

__all__ = ["generation"]

#: How many forks separate this process from the one that imported this module.  A
#: process compares it with what it noted; a value is never reused along one line of
#: descent, so state noted in an ancestor never looks like this process's.
generation = 0


def _forked() -> None:
    global generation
    generation += 1


os.register_at_fork(after_in_child=_forked)
