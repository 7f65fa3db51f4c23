"""The master: starts every configured runner, watches it, restarts it, stops it.

One master per site, guarded by the master lock.  It forks ``instances`` processes of
every ``[runner.NAME]`` with ``start: yes``, each bound to its slice of the queue, and
then only waits: for a child to exit (restarting it, or not, by its exit code), for
SIGTERM/SIGINT (stop everything), SIGHUP (reopen logs, here and in every runner) and
SIGUSR1 (restart every runner).  Signals reach the loop through the wake-up pipe, so
the master never polls and never runs work inside a signal handler.

Every change is written to the state file (``run_dir/master.json``) that ``posthorn
status`` reads.  ``posthorn start`` (``posthorn.cli.start``) checks the configuration
with ``runner_specs``, then calls ``Master.prepare`` and ``Master.run``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
from functools import partial
from typing import Any

from flufl.lock import Lock, NotLockedError

from posthorn.config import Config, ConfigError
from posthorn.errors import PosthornError
from posthorn.logs import reopen_logs
from posthorn.registry import forget_plugins
from posthorn.runners.base import ExitCode
from posthorn.runners.budget import CrashBudget
from posthorn.runners.heap import fill_pools, freeze_heap
from posthorn.runners.orphans import end_earlier_processes, lead_process_group
from posthorn.runners.process import be_runner, in_child, preload, upgrade_schema
from posthorn.runners.reload import reread
from posthorn.runners.signals import HANDLED as _HANDLED
from posthorn.runners.signals import MasterSignals
from posthorn.runners.slots import RunnerSpec, Slot, describe_exit, master_settings, runner_specs
from posthorn.runners.watchdog import Watchdog
from posthorn.runstate import (
    MasterFiles,
    ProcessId,
    take_master_lock,
    write_pid_file,
    write_state,
)
from posthorn.vardir import make_private

__all__ = ["Master", "MasterError", "master_settings", "runner_specs"]


class MasterError(PosthornError):
    """The master could not start; the message says why."""


class Master(MasterSignals):
    """The supervisor of one site's runner processes."""

    def __init__(self, config: Config, specs: list[RunnerSpec], log: logging.Logger) -> None:
        self.log = log
        self.files = MasterFiles.of(config)
        self._configure(config, specs)
        self.started = time.time()
        self._lock: Lock | None = None
        self._wake: tuple[int, int] | None = None
        self._stopping = False
        self._next_refresh = time.monotonic() + self.lock_lifetime / 2

    def _configure(self, config: Config, specs: list[RunnerSpec]) -> None:
        """Take on ``config``: its [master] settings and one slot per runner process."""
        self.config = config
        settings = master_settings(config)
        self.pause = settings["restart_pause"]
        self.pause_max = settings["restart_pause_max"]
        self.stop_timeout = settings["stop_timeout"]
        self.lock_lifetime = settings["lock_lifetime"]
        window = settings["crash_window"]
        self.slots = [
            Slot(spec, i, budget=CrashBudget(spec.max_restarts, window))
            for spec in specs
            for i in range(spec.instances)
        ]
        self.watchdog = Watchdog(config, self.slots, self.log)

    # -- life cycle -------------------------------------------------------------------

    def prepare(self, *, force: bool) -> None:
        """Take the lock, write the pid file, upgrade the database: all before forking."""
        # Handlers first: once the pid file exists, `posthorn reopen` may send SIGHUP,
        # whose default action would end the master.
        self._install_signals()
        self._lock = take_master_lock(
            self.files, lifetime=self.lock_lifetime, force=force, log=self.log
        )
        try:
            lead_process_group()
            # Before our own state replaces the earlier master's: it names its runners.
            end_earlier_processes(self.files, timeout=self.stop_timeout, log=self.log)
            write_pid_file(self.files.pid, ProcessId.current())
            self._write_state()
            # The whole of var/ exists, private, once the site has started.
            make_private(self.config, self.log)
            self._upgrade_schema()
        except BaseException:
            self.release()
            raise

    def _upgrade_schema(self) -> None:
        # In a child: the migration tool never loads into the heap the runners share.
        failure = in_child(partial(upgrade_schema, self.config, self.log))
        if failure is not None:
            raise MasterError(f"database schema upgrade failed: {failure}")
        self._preload()

    def _preload(self) -> None:
        # Only a saving: without it each runner loads what it needs, outages included.
        try:
            preload(self.config, {slot.spec.cls for slot in self.slots})
        except Exception:
            self.log.exception("preloading failed; each runner loads what it needs itself")
        fill_pools()

    def run(self) -> int:
        """Start the runners and supervise them until told to stop; return the exit code."""
        self.log.info(
            "master started (pid %d) with %d runner processes", os.getpid(), len(self.slots)
        )
        try:
            self._spawn(*self.slots)
            while not self._stopping:
                for signum in self._wait(self._timeout()):
                    self._on_signal(signum)
                self._reap()
                self._start_due()
                self.watchdog.check(self.slots)
                self._refresh_lock()
            return 0
        except Exception:
            self.log.exception("master failed; stopping every runner")
            return 1
        finally:
            self._stop_all()
            self.release()
            self.log.info("master stopped")

    def release(self) -> None:
        """Remove the state and pid files and give up the lock (the order matters:
        a new master may start the moment the lock is gone)."""
        if self._lock is None:
            return
        self.files.state.unlink(missing_ok=True)
        self.files.pid.unlink(missing_ok=True)
        self._lock.unlock(unconditionally=True)
        self._lock = None

    # -- signals and waiting ----------------------------------------------------------

    def _timeout(self) -> float:
        now = time.monotonic()
        deadlines = [slot.due for slot in self.slots if slot.due is not None]
        deadlines.append(self._next_refresh)
        if self.watchdog.due is not None:
            deadlines.append(self.watchdog.due)
        return max(min(deadlines) - now, 0.0)

    def _on_signal(self, signum: int) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self.log.info("received %s; stopping", signal.Signals(signum).name)
            self._stopping = True
        elif signum == signal.SIGHUP:
            reopen_logs()
            self.log.info("received SIGHUP; reopened the log file, telling the runners")
            self._signal_children(signal.SIGHUP)
        elif signum == signal.SIGUSR1:
            self.log.info("received SIGUSR1; re-reading the configuration, restarting runners")
            self._reload()

    def _signal_children(self, signum: int) -> None:
        for slot in self.slots:
            if slot.pid is not None:
                # One that has just exited is the reaper's business, not an error.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, signum)

    # -- children ---------------------------------------------------------------------

    def _spawn(self, *slots: Slot) -> None:
        """Fork a runner for each of ``slots``, one right after the other.

        Between two forks the master writes nothing it need not: every page it wrote
        there (a log line, the state file, the collector's pass) would be copied for
        the runner forked just before, which alone shares the old page with it.
        """
        sys.stdout.flush()
        sys.stderr.flush()
        master_pid = os.getpid()
        freeze_heap()
        started: list[int] = []
        # Block our signals across the fork: until the child has reset its handlers, a
        # signal sent to it would land in the wake-up pipe it shares with the master.
        signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)
        try:
            for slot in slots:
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        code = be_runner(self.config, slot, master_pid, self._wake)
                    finally:
                        os._exit(code)
                started.append(pid)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
            # Even when a fork failed: those already running are ours to watch.
            for slot, pid in zip(slots, started, strict=False):
                slot.running(pid)
        for slot in slots[: len(started)]:
            self.log.info("started %s (pid %d)", slot.label, slot.pid)
        self._write_state()

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for slot in self.slots:
                if slot.pid == pid:
                    self._exited(slot, os.waitstatus_to_exitcode(status))
                    break

    def _exited(self, slot: Slot, code: int) -> None:
        """Decide what a runner's exit means: stop, restart now, restart later, give up."""
        uptime = slot.exited(describe_exit(code))
        what = f"{slot.label} (uptime {uptime:.1f}s) {slot.last_exit}"
        if self._stopping:
            self.log.info("%s", what)
        elif slot.restart_requested:
            slot.schedule(0.0)
        elif code == ExitCode.OK:
            slot.state = "stopped"
            self.log.info("%s; not restarted", what)
        elif code == ExitCode.CONFIG:
            slot.state = "failed"
            self.log.error("%s: configuration error; not restarted", what)
        elif code == ExitCode.RECYCLE:
            slot.schedule(0.0)
            self.log.info("%s; recycled", what)
        else:
            self._crashed(slot, code, uptime, what)
        self._write_state()

    def _crashed(self, slot: Slot, code: int, uptime: float, what: str) -> None:
        # A runner that stayed up longer than the longest pause was healthy for a while:
        # start its back-off from the beginning again.
        if uptime >= self.pause_max:
            slot.consecutive = 0
        if code != ExitCode.TEMPFAIL and not slot.budget.record():
            slot.state = "given-up"
            self.log.critical(
                "GIVEN UP: %s; not restarted: max_restarts (%d) reached within "
                "crash_window (%.0fs); its queue waits until 'posthorn restart'",
                what,
                slot.spec.max_restarts,
                slot.budget.window,
            )
            return
        pause = min(self.pause * 2**slot.consecutive, self.pause_max)
        slot.consecutive += 1
        slot.restarts += 1
        slot.schedule(pause)
        self.log.warning("%s; restarting in %.1fs (restart %d)", what, pause, slot.restarts)

    def _start_due(self) -> None:
        now = time.monotonic()
        due = [
            slot
            for slot in self.slots
            if slot.pid is None and slot.due is not None and slot.due <= now
        ]
        if due and not self._stopping:
            self._spawn(*due)

    def _restart_all(self) -> None:
        """SIGUSR1: every runner starts afresh, with a fresh max_restarts allowance."""
        for slot in self.slots:
            slot.budget.reset()
            slot.consecutive = 0
            if slot.pid is not None:
                slot.restart_requested = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, signal.SIGTERM)
            else:
                slot.schedule(0.0)
        self._write_state()

    def _reload(self) -> None:
        """SIGUSR1: the site file again; on success every runner ends and starts on it."""
        try:
            config, specs = reread(self.config)
        except ConfigError as error:
            self.log.error("configuration not reloaded, keeping the running one: %s", error)
            self._restart_all()
            return
        for slot in self.slots:
            slot.restart_requested = True
        self._end_children()
        self._configure(config, specs)
        forget_plugins()  # plugins installed since start are seen by the restarted runners
        self._preload()
        self.log.info("configuration reloaded from %s", config.site_file or "built-in defaults")
        if not self._stopping:
            self._spawn(*self.slots)

    def _stop_all(self) -> None:
        """SIGTERM every runner, wait up to stop_timeout, then SIGKILL what is left."""
        self._stopping = True
        self._end_children()

    def _end_children(self) -> None:
        self._signal_children(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while self._live() and time.monotonic() < deadline:
            if self._wake is None:
                break
            for signum in self._wait(deadline - time.monotonic()):
                if signum == signal.SIGHUP:
                    reopen_logs()
                elif signum in (signal.SIGTERM, signal.SIGINT):
                    self._stopping = True
            self._reap()
        for slot in self._live():
            pid = slot.pid
            assert pid is not None
            self.log.warning("%s did not stop in %.1fs; killing it", slot.label, self.stop_timeout)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            slot.exited("killed by SIGKILL")
        self._write_state()

    def _live(self) -> list[Slot]:
        return [slot for slot in self.slots if slot.pid is not None]

    # -- lock and state ---------------------------------------------------------------

    def _refresh_lock(self) -> None:
        if time.monotonic() < self._next_refresh or self._lock is None:
            return
        self._next_refresh = time.monotonic() + self.lock_lifetime / 2
        try:
            self._lock.refresh()
        except NotLockedError:
            # Someone broke our lock (start --force): another master may be starting.
            # Two sets of runners must never share the queues, so this one gives way.
            self.log.critical("the master lock was taken from us; stopping")
            self._lock = None
            self._stopping = True

    def _write_state(self) -> None:
        if self._lock is None:
            return
        state: dict[str, Any] = {
            "master": {
                "pid": os.getpid(),
                "start": ProcessId.current().start,
                "pgid": os.getpgrp(),
                "started": self.started,
                "host": socket.gethostname(),
                "config": str(self.config.site_file) if self.config.site_file else None,
            },
            "updated": time.time(),
            "runners": [slot.as_dict() for slot in self.slots],
        }
        try:
            write_state(self.files.state, state)
        except OSError as error:
            # The state file only serves `posthorn status`: a full disk or a broken run
            # directory must not stop the master, and with it every runner.
            self.log.error("cannot write %s: %s", self.files.state, error)
