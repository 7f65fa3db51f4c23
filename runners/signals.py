"""A queue runner's signals: handlers that only set flags, and a wake-up pipe.

The loop acts on the flags between entries (``posthorn.runners.base``), so an entry in
hand is always finished -- unless it waits, for a site lock another host holds, which
gives up on a stop (``posthorn.stopping``); the wake-up pipe ends a wait for new
entries at once.
"""

from __future__ import annotations

import os
import select
import signal
from types import FrameType

from posthorn import stopping

__all__ = ["HANDLED", "MasterSignals", "SignalFlags"]

# The master's signals: stop, reopen logs, restart runners, a child exited.
HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGCHLD)


class SignalFlags:
    """SIGTERM/SIGINT set ``_stopping``, SIGHUP sets ``_reopen`` (a mixin of ``Runner``)."""

    _stopping: bool
    _reopen: bool
    _wake_fds: tuple[int, int] | None

    def _install_signals(self) -> None:
        stopping.reset()
        read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._wake_fds = (read_fd, write_fd)
        signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reopen)
        # The master forks runners with SIGHUP blocked; one sent while this runner was
        # starting is delivered now, to the handler.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})

    def _remove_signals(self) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # A reopen request while exiting is moot, and must not kill the process.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.set_wakeup_fd(-1)
        if self._wake_fds is not None:
            for fd in self._wake_fds:
                os.close(fd)
            self._wake_fds = None

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True
        # A wait inside the entry in hand (a site lock) gives up at its next turn.
        stopping.request()

    def _on_reopen(self, signum: int, frame: FrameType | None) -> None:
        self._reopen = True


class MasterSignals:
    """The master's signals arrive as numbers on a wake-up pipe its loop waits on."""

    _wake: tuple[int, int] | None

    def _install_signals(self) -> None:
        # Handlers do nothing: the C-level handler writes the signal number into the
        # wake-up pipe, and the loop reads it from there at a safe point.
        read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._wake = (read_fd, write_fd)
        signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        for signum in HANDLED:
            signal.signal(signum, _count)

    def _wait(self, timeout: float) -> list[int]:
        """Wait up to ``timeout`` seconds for signals; return their numbers."""
        assert self._wake is not None
        ready, _, _ = select.select([self._wake[0]], [], [], max(timeout, 0.0))
        if not ready:
            return []
        try:
            return list(os.read(self._wake[0], 1024))
        except BlockingIOError:
            return []


def _count(signum: int, frame: object) -> None:
    """A handler that only makes the signal count (the wake-up pipe reports it)."""
