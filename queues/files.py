"""Durable, private file operations: the few system calls a queue's promises rest on.

"Durable" means surviving a power cut, not only a crashed process: data is fsynced
before it gets its final name, and the directory is fsynced after the rename, because
a rename lives in the directory, not in the file, and is otherwise only in memory.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, NamedTuple, cast

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
TEMP_SUFFIX = ".tmp"
# Writes smaller than this are gathered before they go to the file.
WRITE_BUFFER = 64 * 1024
# An entry of ordinary size is read with one system call; a buffer size given, rather
# than the default, also spares the terminal check and the second fstat ``open`` makes.
READ_BUFFER = 64 * 1024


class Reusable(NamedTuple):
    """An old file to write an entry into: its descriptor (open, locked), path and size."""

    fd: int
    path: str
    size: int


class UnsafeFile(Exception):
    """A file we must not unpickle: someone other than us could have written it."""


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents, each 0700 and durably recorded."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, PRIVATE_DIR)
        except FileExistsError:
            # Another process created it first; its mode is then its creator's choice.
            continue
        # mkdir's mode is filtered through the umask; set it exactly.
        os.chmod(directory, PRIVATE_DIR)
        fsync_dir(directory.parent)


def fsync_dir(path: Path) -> None:
    """Make the names in ``path`` (creations, renames) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durable(
    directory: Path,
    name: str,
    content: bytes | Callable[[IO[bytes]], None],
    *,
    sync_dir: bool = True,
    reuse: Callable[[], Reusable | None] | None = None,
) -> None:
    """Give ``directory/name`` the ``content``, atomically: readers see all of it or nothing.

    The bytes go to a temporary name that readers ignore, are fsynced, and only then
    renamed to ``name`` (replacing any file of that name).  With ``sync_dir`` false the
    caller promises to call ``fsync_dir(directory)`` before relying on the entry.
    ``content`` may be a function that writes to the (seekable) file instead, so that a
    large entry is never whole in memory.  ``reuse`` may supply the temporary file: an
    old one of ours under a temporary name, open, locked, and no longer reachable by
    any other name even after a power cut (``spares``), or None.
    """
    # Plain strings: a Path per name would be a good part of the Python work per entry.
    final = os.path.join(directory, name)
    reused = reuse() if reuse is not None else None
    if reused is not None:
        # One of ours, already private (``spares`` checks it).
        fd, temp, mode = reused.fd, reused.path, PRIVATE_FILE
    else:
        temp = final + TEMP_SUFFIX
        fd, mode = _create_locked(temp)
    try:
        if mode != PRIVATE_FILE:
            # The umask took more than group and other bits away; set the mode exactly.
            os.fchmod(fd, PRIVATE_FILE)
        if callable(content):
            writer = DescriptorWriter(fd)
            content(cast(IO[bytes], writer))
            writer.flush()
            size = writer.position
        else:
            write_all(fd, content)
            size = len(content)
        if reused is not None and size < reused.size:
            # Written over the old bytes in place, which is cheaper than freeing the
            # blocks and allocating them again; what is left past the new end goes
            # before the fsync, so the entry's name never shows a byte of it.
            os.ftruncate(fd, size)
        os.fsync(fd)
        # Renamed while still locked: a tidy that locked the file between a close and
        # the rename would take it for a dead writer's and remove it (``quarantine``).
        os.rename(temp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    finally:
        os.close(fd)
    if sync_dir:
        fsync_dir(directory)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may write only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class DescriptorWriter:
    """A file object over a descriptor, for a function that writes a message: write,
    tell, seek (``write_durable`` hands one to its writing function, a digest mailbox's
    append another).

    ``os.fdopen`` would first fstat, lseek and ioctl the descriptor, three system calls
    per entry for an object used once.  Small writes are gathered into one; a large one
    (a message) goes straight to the descriptor, never copied.  ``position`` is where
    the descriptor writes next (its offset, or the end of a file opened to append).
    """

    def __init__(self, fd: int, position: int = 0) -> None:
        self.fd = fd
        self.buffer = bytearray()
        # Where the buffer's first byte goes in the file.
        self.position = position

    def write(self, data: bytes | bytearray | memoryview) -> int:
        size = memoryview(data).nbytes
        if len(self.buffer) + size <= WRITE_BUFFER:
            self.buffer += data
            return size
        self.flush()
        write_all(self.fd, data)
        self.position += size
        return size

    def flush(self) -> None:
        if self.buffer:
            write_all(self.fd, self.buffer)
            self.position += len(self.buffer)
            self.buffer.clear()

    def tell(self) -> int:
        return self.position + len(self.buffer)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self.flush()
        self.position = os.lseek(self.fd, offset, whence)
        return self.position


def _create_locked(temp: str) -> tuple[int, int]:
    """Create ``temp`` and hold an exclusive flock on it until it is closed.

    The lock tells a reader tidying the queue that the file's writer is alive (see
    ``quarantine``); a file unlinked by such a tidy before we got the lock is created
    afresh.  Returns the descriptor and the file's permission bits.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    while True:
        try:
            fd = os.open(temp, flags, PRIVATE_FILE)
        except FileExistsError:
            # Left by a crash while rewriting this same entry (fresh names never
            # collide, and only the owner of an entry rewrites it): ours to discard.
            os.unlink(temp)
            fd = os.open(temp, flags, PRIVATE_FILE)
        fcntl.flock(fd, fcntl.LOCK_EX)
        info = os.fstat(fd)
        if info.st_nlink:
            return fd, stat.S_IMODE(info.st_mode)
        os.close(fd)


def describe_kind(mode: int) -> str:
    """What a file is, in words: "a directory", "a FIFO", ..."""
    kinds = [
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ]
    return next((word for test, word in kinds if test(mode)), "of an unknown kind")


def read_private(path: Path) -> bytes:
    """Read a whole file, refusing it unless only this user could have written it."""
    with open_private(path) as fp:
        return fp.read()


def open_private(path: Path) -> IO[bytes]:
    """Open a file for reading, refusing it unless only this user could have written it.

    The checks run on the opened descriptor, so the file cannot be swapped between
    the check and the read.  Raises UnsafeFile with the reason.
    """
    # O_NONBLOCK: opening a FIFO would otherwise wait for a writer, forever.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafeFile("is a symbolic link") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"is {describe_kind(info.st_mode)}, not a regular file")
        if info.st_uid != os.geteuid():
            raise UnsafeFile(f"is owned by uid {info.st_uid}, not {os.geteuid()}")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise UnsafeFile(f"is writable by others (mode {stat.S_IMODE(info.st_mode):04o})")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb", buffering=READ_BUFFER)


def move_file(source: Path, target_dir: Path, name: str) -> Path:
    """Move ``source`` into ``target_dir`` as ``name`` (or a free variant of it), durably.

    An existing file of that name is never replaced, so nothing set aside earlier is
    lost.  Across file systems the content is copied durably, then the source removed.
    Returns the new path.
    """
    ensure_private_dir(target_dir)
    target = _free_name(target_dir, name)
    try:
        os.rename(source, target)
    except OSError as error:
        # Across file systems only a regular file is copied: reading a FIFO would block.
        if error.errno != errno.EXDEV or not stat.S_ISREG(source.lstat().st_mode):
            raise
        with open(source, "rb") as fp:
            write_durable(target_dir, target.name, fp.read())
        os.unlink(source)
    else:
        fsync_dir(target_dir)
    fsync_dir(source.parent)
    return target


def _free_name(directory: Path, name: str) -> Path:
    target = directory / name
    stem, dot, suffix = name.rpartition(".")
    number = 1
    # lexists, not exists: a dangling symbolic link set aside earlier must not be replaced.
    while os.path.lexists(target):
        target = directory / (f"{stem}-{number}.{suffix}" if dot else f"{name}-{number}")
        number += 1
    return target
