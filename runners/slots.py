"""The master's bookkeeping: which runner processes should exist, and how each fares.

A ``RunnerSpec`` is one ``[runner.NAME]`` section, checked: its class imports and is a
runner, its numbers make sense.  ``runner_specs`` checks every section before the master
forks anything, so a typo stops ``posthorn start`` with a message naming the section and
the key instead of leaving a crash loop behind.  A ``Slot`` is one instance (one slice)
of a runner and what the master knows about it: pid, state, restarts.
"""

from __future__ import annotations

import re
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from posthorn.config import Config, ConfigError, Section
from posthorn.registry import Registry
from posthorn.runners.base import BaseRunner, ExitCode, Runner, ServiceRunner
from posthorn.runners.budget import CrashBudget
from posthorn.runstate import start_ticks

__all__ = ["RunnerSpec", "Slot", "describe_exit", "master_settings", "runner_specs"]

# A runner's name becomes a queue directory and a log file name.
_NAME = re.compile(r"\A[a-z0-9][a-z0-9_-]*\Z")
# master.log is the master's; shunt, bad, dead and hold are queues no runner reads.
_RESERVED = frozenset({"master", "shunt", "bad", "dead", "hold"})


@dataclass(frozen=True)
class RunnerSpec:
    """One runner as configured: what to start, how many, and how forgivingly."""

    name: str
    cls: type[BaseRunner]
    instances: int
    max_restarts: int
    queue: str | None  # the queue it reads; None for a service runner


def runner_specs(config: Config) -> list[RunnerSpec]:
    """Every runner to start, checked (and ``[master]``); ConfigError names section and key.

    The values of every ``[runner.NAME]`` section are checked, but only runners with
    ``start: yes`` have their class imported: a runner switched off may well need a
    dependency this site has not installed.
    """
    master_settings(config)
    registry = Registry(config)
    specs = [
        _spec(registry, config, name, config.runner(name))
        for name in sorted(config.named("runner"))
    ]
    return [spec for spec in specs if spec is not None]


def master_settings(config: Config) -> dict[str, float]:
    """The ``[master]`` durations, checked: a zero pause would let a crash loop spin."""
    section = config["master"]
    keys = ("restart_pause", "restart_pause_max", "stop_timeout", "lock_lifetime", "crash_window")
    settings = {key: section.get_float(key) for key in keys}
    for key, value in settings.items():
        if value <= 0:
            raise _fail(section, key, "must be longer than 0s")
    if settings["restart_pause_max"] < settings["restart_pause"]:
        raise _fail(section, "restart_pause_max", "must not be shorter than restart_pause")
    return settings


def _fail(section: Section, key: str, message: str) -> ConfigError:
    return ConfigError(message, file=section.source(key), section=section.name, key=key)


def _spec(registry: Registry, config: Config, name: str, section: Section) -> RunnerSpec | None:
    if not _NAME.match(name) or name in _RESERVED:
        reserved = ", ".join(sorted(_RESERVED))
        raise ConfigError(
            f"a runner name is made of lower-case letters, digits, '-' and '_', and is not "
            f"one of the reserved names {reserved}",
            file=section.source("class"),
            section=section.name,
        )
    for key in ("max_restarts", "max_messages"):
        if section.get_int(key) < 0:
            raise _fail(section, key, f"must be 0 or more, got {section.get_int(key)}")
    if section.get_float("max_idle") < 0:
        raise _fail(section, "max_idle", "must be 0s or more")
    if section.get_float("sleep_time") <= 0:
        raise _fail(section, "sleep_time", "must be longer than 0s")
    if not section.get_bool("start"):
        return None
    cls = _load_class(registry, name, section)
    cls.check_config(config)
    queue = (cls.queue_name or name) if issubclass(cls, Runner) else None
    return RunnerSpec(
        name=name,
        cls=cls,
        instances=section.get_int("instances"),
        max_restarts=section.get_int("max_restarts"),
        queue=queue,
    )


def _load_class(registry: Registry, name: str, section: Section) -> type[BaseRunner]:
    # An empty class means the built-in runner of the section's name.
    path = section.get_str("class") or name
    try:
        cls = registry.load("runner", path)
    except Exception as error:
        # Importing runs arbitrary module code: any error there is the config's problem.
        raise _fail(section, "class", f"cannot load runner {path!r}: {error}") from None
    if not isinstance(cls, type) or not issubclass(cls, BaseRunner):
        raise _fail(
            section,
            "class",
            f"{path!r} is not a runner class (a subclass of posthorn.runners.base.Runner "
            "or ServiceRunner)",
        )
    if cls in (BaseRunner, Runner, ServiceRunner):
        raise _fail(section, "class", f"{path!r} is a base class, not a runner")
    return cls


def describe_exit(code: int) -> str:
    """An exit code as ``waitstatus_to_exitcode`` gives it, in words for the log."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    try:
        return f"exited with {code} ({ExitCode(code).name})"
    except ValueError:
        return f"exited with {code}"


@dataclass
class Slot:
    """One runner process the master keeps: one slice of one runner."""

    spec: RunnerSpec
    slice: int
    pid: int | None = None
    start: int | None = None  # the pid's start time (/proc/PID/stat), to tell it from reuse
    state: str = "starting"
    started: float | None = None  # wall clock, for status
    restarts: int = 0  # restarts after an abnormal exit, shown by status
    # The crashes max_restarts limits (TEMPFAIL is not a crash), within crash_window.
    budget: CrashBudget = field(default_factory=lambda: CrashBudget(0, 0.0))
    consecutive: int = 0  # abnormal exits in a row, for the back-off
    last_exit: str | None = None
    due: float | None = None  # monotonic time of a scheduled start
    restart_requested: bool = False
    _since: float = field(default=0.0, repr=False)  # monotonic start time

    @property
    def label(self) -> str:
        return f"{self.spec.name} {self.slice}/{self.spec.instances}"

    def running(self, pid: int) -> None:
        self.pid = pid
        self.start = start_ticks(pid)
        self.state = "running"
        self.started = time.time()
        self._since = time.monotonic()
        self.due = None
        self.restart_requested = False

    def exited(self, how: str) -> float:
        """Record an exit; return how long the process ran."""
        self.pid = None
        self.last_exit = how
        self.state = "stopped"
        return time.monotonic() - self._since

    def schedule(self, delay: float) -> None:
        self.state = "waiting" if delay > 0 else "starting"
        self.due = time.monotonic() + delay

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "slice": self.slice,
            "count": self.spec.instances,
            "pid": self.pid,
            "start": self.start if self.pid is not None else None,
            "state": self.state,
            "started": self.started,
            "restarts": self.restarts,
            "crashes": self.budget.count(),
            "last_exit": self.last_exit,
            "queue": self.spec.queue,
        }
