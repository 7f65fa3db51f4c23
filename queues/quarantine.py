"""Tidying a queue at its reader's start: odd things set aside, dead writers' files removed.

Only regular files owned by us are entries.  A directory, a FIFO, a socket, a device
or a symbolic link named like an entry (by a person, a broken script or an attacker
with access to the folder) must neither block a reader (opening a FIFO waits for a
writer, forever) nor crash it again and again (a directory cannot be read), so each is
moved aside to the ``bad`` folder with one log line, and the queue goes on.  Entries
that turn up later are caught when read: ``files.read_private`` opens without
blocking or following links and checks the descriptor.

A temporary file (``.tmp``) is a writer's entry in progress.  Each writer holds an
exclusive ``flock`` on it from creation to rename (``files.write_durable``), so one we
can lock belongs to a writer that died: it is removed at once rather than an hour later.
The writer checks, once it holds its lock, that its file still has a name, so a tidy
racing with a writer that has only just created its file costs that writer a retry,
never an entry.  A spare a writer has taken ahead of need (``spares``) is such a file
too, named ``.spare-<pid>-<n>.tmp`` and locked for as long as its writer lives.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

from posthorn.queues.files import TEMP_SUFFIX, describe_kind, move_file

__all__ = ["ENTRY_SUFFIXES", "tidy_queue"]

ENTRY_SUFFIXES = (".pck", ".bak", TEMP_SUFFIX)


def tidy_queue(
    queue_dir: Path,
    bad_dir: Path,
    *,
    owns: Callable[[str], bool],
    log: logging.Logger,
    name: str,
) -> int:
    """Set aside what is not an entry, remove dead writers' temporary files; return how many.

    Only names of the caller's slice (``owns`` on the part before the first dot) are
    looked at, so readers of other slices of the same folder are left alone.
    """
    done = 0
    for entry in os.listdir(queue_dir):
        if not entry.endswith(ENTRY_SUFFIXES) or not owns(entry.split(".", 1)[0]):
            continue
        path = queue_dir / entry
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        problem = _problem(info)
        if problem is not None:
            done += _set_aside(path, bad_dir, problem, log, name)
        elif entry.endswith(TEMP_SUFFIX) and _remove_if_abandoned(path):
            log.warning("%s: removed %s, left by a writer that died", name, entry)
            done += 1
    return done


def _problem(info: os.stat_result) -> str | None:
    if not stat.S_ISREG(info.st_mode):
        return f"is {describe_kind(info.st_mode)}, not a regular file"
    if info.st_uid != os.geteuid():
        return f"is owned by uid {info.st_uid}, not {os.geteuid()}"
    return None


def _set_aside(path: Path, bad_dir: Path, problem: str, log: logging.Logger, name: str) -> int:
    try:
        target = move_file(path, bad_dir, path.name)
    except OSError as error:
        log.error("%s: bad entry %s: %s; cannot move it to %s (%s), left in place", name,
                  path.name, problem, bad_dir, error)  # fmt: skip
        return 0
    # Worded as the switchboard words an entry it cannot load: one kind of line to grep.
    log.error("%s: bad entry %s: %s; moved to %s", name, path.name, problem, target)
    return 1


def _remove_if_abandoned(path: Path) -> bool:
    """Remove a temporary file whose writer holds no lock on it; True if removed."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live writer
        # The name must still be this file: a writer that finished just before the lock
        # has renamed it away, and the name may be new.  Unlinked while we hold the
        # lock: a writer that created it but has not locked it yet sees it gone.
        with contextlib.suppress(FileNotFoundError):
            if path.lstat().st_ino == os.fstat(fd).st_ino:
                os.unlink(path)
                return True
        return False
    finally:
        os.close(fd)
