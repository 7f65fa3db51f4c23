"""``var/`` is private: only the user Posthorn runs as may read or enter it.

Logs hold addresses and message text, queues hold whole messages, the databases hold
every member.  So ``posthorn start`` sets the umask to 077 before it creates anything
(every directory then comes out 0700, every file 0600, in the master and in each
runner it forks), and tightens what an earlier version or a person left looser, with
a log line per path.

Tightening walks only what may be exposed: the var dir and every runtime folder, the
entries directly in them, and the insides of any folder that was itself open to
others.  A file inside a folder that was already private cannot be reached by anyone
else, so a large archive that has always been private costs no walk at each start.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from posthorn.config import Config

__all__ = ["PRIVATE_UMASK", "RUNTIME_DIRS", "make_private"]

PRIVATE_UMASK = 0o077
# The folders the master creates at start, so a person finds each where it is documented.
RUNTIME_DIRS = ("queue_dir", "log_dir", "lock_dir", "data_dir", "archive_dir", "run_dir")
_OPEN_BITS = 0o077


def make_private(config: Config, log: logging.Logger) -> int:
    """Set the private umask, create var/ and its folders 0700, tighten what is open.

    Returns how many paths were tightened (each is logged).
    """
    os.umask(PRIVATE_UMASK)
    tightened = 0
    roots = [config.path("var_dir"), *(config.path(key) for key in RUNTIME_DIRS)]
    for root in roots:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for root in dict.fromkeys(roots):
        tightened += _tighten_tree(root, log, forced=True)
    return tightened


def _tighten_tree(folder: Path, log: logging.Logger, *, forced: bool) -> int:
    """Tighten ``folder``; look inside it if it was open or ``forced`` (a root)."""
    was_open = _tighten(folder, log)
    if not (was_open or forced):
        return 0
    count = int(was_open)
    try:
        entries = list(os.scandir(folder))
    except OSError as error:
        log.warning("cannot look into %s to make it private: %s", folder, error)
        return count
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            count += _tighten_tree(path, log, forced=False)
        elif entry.is_file(follow_symlinks=False):
            count += int(_tighten(path, log))
    return count


def _tighten(path: Path, log: logging.Logger) -> bool:
    """Take every group and other permission off ``path``; True if it had any."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    mode = stat.S_IMODE(info.st_mode)
    if not mode & _OPEN_BITS or stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return False
    try:
        os.chmod(path, mode & ~_OPEN_BITS)
    except OSError as error:
        log.warning("cannot make %s private (mode %04o): %s", path, mode, error)
        return False
    log.warning("made %s private: mode %04o -> %04o", path, mode, mode & ~_OPEN_BITS)
    return True
