"""Wake a queue reader when an entry arrives, instead of polling the directory.

Polling once a second adds up to a second per hop; a message crosses four or five queues.
On Linux the kernel tells us instead: an inotify watch on the queue directory reports
every file renamed into it (IN_MOVED_TO, how an enqueue publishes an entry) or written
in place (IN_CLOSE_WRITE, someone copying a file in by hand), from any process.  inotify
is reached through ctypes because the standard library has no binding for it.

Where inotify is missing (another kernel, a file system that does not report events, the
per-user limit on watches reached), the watcher sleeps out the timeout it is given --
the runner's ``sleep_time`` -- and the caller rescans, as a polling reader would.

Either way a wait can be cut short through ``stop_fd``: any file descriptor that
becomes readable when the caller wants to stop (a self-pipe written from a SIGTERM
handler, say), so shutdown never waits for a timeout to run out.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import logging
import math
import os
import select
import struct
import time
from pathlib import Path
from types import TracebackType
from typing import Self

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

# struct inotify_event { int wd; uint32_t mask, cookie, len; char name[len]; }
_EVENT = struct.Struct("iIII")
_READ_SIZE = 64 * 1024


@functools.cache
def _inotify_libc() -> ctypes.CDLL | None:
    """The C library if it offers inotify, else None (looked up once per process)."""
    try:
        # The C library is already loaded into every CPython process on Linux, so
        # CDLL(None) finds it without ctypes.util.find_library running ldconfig.
        libc = ctypes.CDLL(None, use_errno=True)
        init, add = libc.inotify_init1, libc.inotify_add_watch
    except (OSError, AttributeError):
        return None
    init.argtypes, init.restype = [ctypes.c_int], ctypes.c_int
    add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    add.restype = ctypes.c_int
    return libc


class DirectoryWatcher:
    """Reports files ending in ``suffix`` that appear in one directory."""

    def __init__(
        self, path: str | Path, *, suffix: str = ".pck", logger: logging.Logger | None = None
    ) -> None:
        self.path = Path(path)
        self._suffix = os.fsencode(suffix)
        self._log = logger or logging.getLogger("posthorn.queues")
        self._fd = -1
        libc = _inotify_libc()
        if libc is None:
            self._log.info("no inotify here; %s is rescanned after each timeout", self.path)
            return
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            self._fallback("inotify_init1", ctypes.get_errno())
            return
        mask = IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR
        if libc.inotify_add_watch(fd, os.fsencode(self.path), mask) < 0:
            code = ctypes.get_errno()
            os.close(fd)
            self._fallback("inotify_add_watch", code)
            return
        self._fd = fd

    def _fallback(self, call: str, code: int) -> None:
        self._log.warning(
            "%s failed for %s (%s); falling back to rescanning after each timeout",
            call,
            self.path,
            os.strerror(code) if code else "unknown error",
        )

    @property
    def active(self) -> bool:
        """True while the kernel is reporting events (False: sleeping fallback)."""
        return self._fd >= 0

    def fileno(self) -> int:
        """The inotify descriptor, readable when events are pending (-1 in fallback)."""
        return self._fd

    def drain(self) -> bool:
        """Consume pending events; True if any of them may mean a new entry."""
        arrived = False
        while self._fd >= 0:
            try:
                buffer = os.read(self._fd, _READ_SIZE)
            except BlockingIOError:
                break
            except OSError as error:
                if error.errno == errno.EINTR:
                    continue
                raise
            arrived = self._parse(buffer) or arrived
        return arrived

    def _parse(self, buffer: bytes) -> bool:
        arrived = False
        offset = 0
        while offset + _EVENT.size <= len(buffer):
            _wd, mask, _cookie, length = _EVENT.unpack_from(buffer, offset)
            name = buffer[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
            offset += _EVENT.size + length
            if mask & IN_Q_OVERFLOW:
                # The kernel dropped events; anything may have arrived.
                arrived = True
            elif mask & IN_IGNORED:
                # The watch is gone (directory removed or unmounted): stop trusting it.
                self._log.warning("watch on %s was removed; falling back to rescanning", self.path)
                self.close()
                arrived = True
            elif name.endswith(self._suffix):
                arrived = True
        return arrived

    def wait(self, timeout: float, stop_fd: int | None = None) -> bool:
        """Block until an entry may have arrived (True), or timeout or stop (False).

        In fallback mode the whole timeout is slept (unless ``stop_fd`` fires) and True
        is returned, so the caller rescans just as a polling reader would.
        """
        if self._fd < 0:
            return self._sleep(timeout, stop_fd)
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        if stop_fd is not None:
            poller.register(stop_fd, select.POLLIN)
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            remaining = deadline - time.monotonic()
            # Round up: a timeout rounded down to 0 ms would spin until the deadline.
            ready = poller.poll(max(math.ceil(remaining * 1000), 0))
            if not ready:
                return False
            if stop_fd is not None and any(fd == stop_fd for fd, _ in ready):
                return False
            # Events for other files (a writer's temporary file) are not arrivals:
            # keep waiting for the rest of the timeout.
            if self.drain():
                return True

    def _sleep(self, timeout: float, stop_fd: int | None) -> bool:
        if stop_fd is None:
            time.sleep(max(timeout, 0.0))
            return True
        poller = select.poll()
        poller.register(stop_fd, select.POLLIN)
        return not poller.poll(max(math.ceil(timeout * 1000), 0))

    def close(self) -> None:
        """Release the inotify descriptor; further waits sleep out their timeout."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
