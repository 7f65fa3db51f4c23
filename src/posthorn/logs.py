"""Logging set-up: one file per process kind under ``[paths] log_dir``, reopenable.

The master logs to ``master.log`` and every runner to ``NAME.log`` (all instances of a
runner share the file; each line carries the process id).  Files are opened in append
mode and reopened on request -- the master and the runners do so on SIGHUP -- so that
logrotate can rename a file and have the next line go to a fresh one, without the
``copytruncate`` race that loses lines.

Reopening is requested from signal handlers but performed by the process's main loop
at a safe point: closing a stream in the middle of another write, from a handler that
interrupted it, could lose or tear a line.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from posthorn.config import Config, ConfigError

__all__ = ["FORMAT", "ReopenableFileHandler", "log_path", "reopen_logs", "setup_logging"]

FORMAT = "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"


class ReopenableFileHandler(logging.FileHandler):
    """A file handler whose file can be closed and reopened under the same name."""

    def __init__(self, path: Path) -> None:
        # delay=True: the file is opened on the first line, and again after reopen().
        super().__init__(path, mode="a", encoding="utf-8", delay=True)

    def reopen(self, path: Path | None = None) -> None:
        """Close the stream; the next record opens ``self.baseFilename`` (or ``path``)."""
        self.acquire()
        try:
            if path is not None:
                self.baseFilename = os.path.abspath(path)
            if self.stream is not None:
                try:
                    self.stream.flush()
                finally:
                    self.stream.close()
                    # FileHandler.emit opens the file again when the stream is None.
                    self.stream = None
        finally:
            self.release()


def log_path(config: Config, name: str) -> Path:
    """The file a process named ``name`` (``master`` or a runner) writes to."""
    return config.path("log_dir") / f"{name}.log"


def _level(config: Config) -> int:
    word = config["logging"].get_str("level").strip().upper()
    level = logging.getLevelName(word)
    if not isinstance(level, int):
        raise ConfigError(f"unknown log level {word.lower()!r}", section="logging", key="level")
    return level


def setup_logging(config: Config, name: str, *, stderr: bool = False) -> logging.Logger:
    """Send this process's log records to ``log_dir/NAME.log``; return ``posthorn.NAME``.

    Everything the process logs goes to the one file -- the runner's own logger, the
    core's (``posthorn.events``, the database), libraries' -- so that a person reading
    ``NAME.log`` sees the whole story of that runner.  A runner forked from the master
    must not keep writing to ``master.log``: the master's file handler is pointed at the
    runner's file, and every other handler removed.  Kept rather than built anew, with
    the level set only when it changes (which writes to every logger), the runner
    copies less of the memory it shares with the master: some 0.7 MiB each
    (``bench/memory_bench.py site``).
    """
    root = logging.getLogger()
    path = log_path(config, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter(FORMAT)
    file_handler: ReopenableFileHandler | None = None
    for handler in list(root.handlers):
        if file_handler is None and isinstance(handler, ReopenableFileHandler):
            handler.reopen(path)
            file_handler = handler
        else:
            root.removeHandler(handler)
            handler.close()
    if file_handler is None:
        file_handler = ReopenableFileHandler(path)
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
    if stderr:
        # In the foreground (under systemd, in a terminal) warnings and errors also go
        # to stderr, where the journal or the person watching picks them up; the full
        # story stays in the file.  Only those: a caller that pipes stderr and reads it
        # only on failure must not see the master block on a full pipe.
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        stream.setLevel(logging.WARNING)
        root.addHandler(stream)
    level = _level(config)
    if root.level != level:
        root.setLevel(level)
    logging.captureWarnings(True)
    return logging.getLogger(f"posthorn.{name}")


def reopen_logs() -> None:
    """Reopen every log file this process writes (after logrotate renamed them).

    Not only the root logger's: a logger may keep a file of its own (the outgoing
    runner's ``smtp.log`` on ``posthorn.smtp``), and it is rotated with the rest.
    """
    loggers = [logging.getLogger()]
    loggers += [
        logger
        for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, ReopenableFileHandler):
                handler.reopen()
