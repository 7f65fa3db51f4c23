"""The C library, for the few calls the ``os`` module lacks (inotify, renameat2, malloc)."""

from __future__ import annotations

import ctypes
import functools

__all__ = ["c_library"]


@functools.cache
def c_library() -> ctypes.CDLL | None:
    """The C library, loaded once per process (the master's handle is every runner's);
    None where it cannot be loaded."""
    try:
        # Already loaded into every CPython process on Linux, so CDLL(None) finds it
        # without ctypes.util.find_library running ldconfig.
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
