"""A queue runner's signals: handlers that only set flags, and a wake-up pipe.

The loop acts on the flags between entries (``posthorn.runners.base``), so an entry in
hand is always finished; the wake-up pipe ends a wait for new entries at once.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

__all__ = ["SignalFlags"]


class SignalFlags:
    """SIGTERM/SIGINT set ``_stopping``, SIGHUP sets ``_reopen`` (a mixin of ``Runner``)."""

    _stopping: bool
    _reopen: bool
    _wake_fds: tuple[int, int] | None

    def _install_signals(self) -> None:
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

    def _on_reopen(self, signum: int, frame: FrameType | None) -> None:
        self._reopen = True
