"""The body of a runner process: the master prepares its heap (``heap.freeze_heap``)
and forks, prepares the child (signals, parent-death signal) and calls ``run_runner``,
then exits with the code it returns.  Also what the master does before forking to keep
its shared heap small: the schema upgrade in a child of its own (``in_child``), and
``preload``."""

from __future__ import annotations

import contextlib
import cProfile
import importlib
import os
import pkgutil
import signal
import sys
import time
from collections.abc import Callable, Iterable
from logging import Logger
from pathlib import Path
from typing import Protocol, runtime_checkable

from posthorn.config import Config, ConfigError
from posthorn.errors import NoSuchListError
from posthorn.logs import setup_logging
from posthorn.queues import QueueUnavailable
from posthorn.registry import BUILTINS, Registry
from posthorn.runners.aside import enable as run_site_jobs_aside
from posthorn.runners.base import BaseRunner, ExitCode
from posthorn.runners.heap import libc, return_large_blocks
from posthorn.runners.listening import claiming
from posthorn.runners.signals import HANDLED
from posthorn.runners.slots import Slot
from posthorn.site import Site
from posthorn.stopping import StopRequested

__all__ = [
    "Preloading",
    "be_runner",
    "in_child",
    "preload",
    "preloaded_site",
    "run_runner",
    "set_parent_death_signal",
    "upgrade_schema",
]

PR_SET_PDEATHSIG = 1


def be_runner(config: Config, slot: Slot, master_pid: int, wake: tuple[int, int] | None) -> int:
    """The first moments of a runner process just forked, then the runner itself.

    ``wake`` is the master's wake-up pipe, which the runner closes.
    """
    signal.set_wakeup_fd(-1)
    for signum in HANDLED:
        signal.signal(signum, signal.SIG_DFL)
    if wake is not None:
        for fd in wake:
            os.close(fd)
    set_parent_death_signal(signal.SIGTERM)
    # SIGTERM may end a runner that is still starting (it has no entry in hand yet),
    # but SIGHUP must not: it stays blocked, and so pending, until the runner has
    # a handler for it (see posthorn.runners.base).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(HANDLED) - {signal.SIGHUP})
    if os.getppid() != master_pid:
        return ExitCode.OK  # the master died before the death signal was armed
    spec = slot.spec
    return run_runner(
        config, spec.name, spec.cls, slice=slot.slice, count=spec.instances, master_pid=master_pid
    )


def in_child(work: Callable[[], None]) -> str | None:
    """Run ``work`` in a forked child and wait for it: None if it succeeded, else why not.

    What ``work`` imports and allocates (the schema upgrade's migration tool and its
    templates, some 12 MiB) goes when the child exits, so the master, whose heap every
    runner shares, never holds it.
    """
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_fd)
            signal.set_wakeup_fd(-1)  # the master's wake-up pipe is the master's
            work()
        except BaseException as error:
            os.write(write_fd, (str(error) or type(error).__name__).encode()[:4096])
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        why = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return None if code == 0 else why or f"exit code {code}"


def upgrade_schema(config: Config, log: Logger) -> None:
    """Bring every database of the site to the current schema (run by ``in_child``)."""
    site = Site(config)
    try:
        databases = site.databases
    except ImportError:
        log.info("no database layer installed; schema upgrade skipped")
        return
    try:
        databases.upgrade()
    except Exception:
        log.exception("database schema upgrade failed")
        raise
    finally:
        site.close()


_preloaded: Site | None = None


@runtime_checkable
class Preloading(Protocol):
    """A runner class with something of its own to build in the master (``preload``)."""

    @classmethod
    def preload(cls, site: Site) -> None: ...


def preload(config: Config, runners: Iterable[type] = ()) -> None:
    """Import and build, in the master, what every runner uses: shared by them, not one
    copy each.

    The managers' modules (models, database driver) load, the site and its managers
    are built, and the database engines are made and connected once, then left without
    a connection: each runner forked after takes the site over with pools of its own
    (``preloaded_site``).  Each runner making and connecting its own engines had copied
    some 2 MiB of the shared heap: ``bench/memory_bench.py site`` gave 206 MiB PSS at
    start and 303 after posts, now 195 and 294; with the ORM set up and the queries
    compiled too (``_warm``), 193 and 266; with every lookup the runners make for a
    post compiled, 4 MiB less after posts (192 then 188).  Each building a site of its
    own copied another 1 MiB.  A runner class in ``runners`` with a ``preload(site)`` class method
    (``Preloading``) builds its own part then, on that site.
    """
    global _preloaded
    if _preloaded is not None:
        _preloaded.close()
        _preloaded = None
    _import_components()
    libc()
    site = Site(config)
    try:
        with contextlib.suppress(ImportError):
            for kind in ("users", "lists", "domains", "messages"):
                getattr(site, kind)
            site.databases.connect_once()
            _warm(site)
        with claiming():
            for cls in runners:
                if isinstance(cls, Preloading):
                    cls.preload(site)
        if "databases" in site.__dict__:
            site.databases.close_connections()
        _preloaded = site
    except BaseException:
        site.close()
        raise


# What the incoming, pipeline, virgin and archive runners load by name on starting.
_COMPONENTS = ("handler", "rule", "chain", "archiver")


def _import_components() -> None:
    """Import every built-in handler, rule, chain and archiver, in the master.

    Each runner that builds a pipeline or a chain imported them itself, the pipeline
    and virgin runners the same twenty modules each: a private copy in every one.
    """
    registry = Registry()
    # The REST runner's resources, which its application imports when it is made.
    import posthorn.rest

    for module in pkgutil.iter_modules(posthorn.rest.__path__, "posthorn.rest."):
        importlib.import_module(module.name)
    for kind in _COMPONENTS:
        for name in BUILTINS.get(kind, {}):
            # One that cannot load (an optional dependency missing) is the business of
            # the runner that names it, which says so.
            with contextlib.suppress(Exception):
                registry.load(kind, name)


# No site has this address or list (RFC 2606): the lookups find nothing, change nothing.
_NOBODY = "nobody@warm.invalid"
_NO_LIST = "nobody.warm.invalid"


def _warm(site: Site) -> None:
    """Ask each manager what the runners ask of it for every post, in the master: the
    ORM sets up its mappings and the engines keep the compiled queries, once for every
    runner instead of once in each.  Every statement a runner compiles for itself also
    writes to the ORM's shared objects (memoised attributes, caches), copying them."""
    from posthorn.model.bans import DatabaseBanManager
    from posthorn.model.header_matches import DatabaseHeaderMatches
    from posthorn.model.job_runs import JobRuns
    from posthorn.model.members import DatabaseRoster
    from posthorn.model.template_uris import DatabaseTemplateUris

    site.lists.get(_NOBODY)
    site.lists.count()
    site.users.get_address(_NOBODY)
    site.users.get_user_by_address(_NOBODY)
    site.lists.find_members(list_id=_NO_LIST, email=_NOBODY)
    DatabaseBanManager.from_site(site).is_banned(_NOBODY, _NO_LIST)
    DatabaseHeaderMatches.from_site(site).of(_NO_LIST)
    DatabaseTemplateUris.from_site(site).lookup(["warm"], [_NO_LIST, None])
    with contextlib.suppress(NoSuchListError):
        site.lists.roster(_NO_LIST)
    roster = DatabaseRoster(site.databases.session_factory("list"), _NO_LIST)
    roster.members  # noqa: B018 (the query is the point)
    list(roster.addresses(("regular",), 100))
    JobRuns(site.databases.session_factory("message")).last("warm")


def preloaded_site(config: Config) -> Site | None:
    """The master's site, when the runner runs on the configuration it was made for."""
    if _preloaded is not None and _preloaded.config is config:
        return _preloaded
    return None


def _own_site(config: Config) -> Site:
    """This runner's site: the master's, or a new one.

    The master's is taken over as it is: ``preload`` left its pools empty, and the master
    never uses it after, so no connection can be shared.  Making new pools
    (``Databases.after_fork``) would have copied some 0.8 MiB of the master's pages
    into every runner, the ones that never ask the database too.
    """
    return preloaded_site(config) or Site(config)


def set_parent_death_signal(signum: int) -> None:
    """Have the kernel send ``signum`` to this process when its parent dies (Linux)."""
    library = libc()
    # Not Linux: the runner's getppid() check between entries is the backstop.
    with contextlib.suppress(AttributeError):
        if library is not None:
            library.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)


def _profiled(runner: BaseRunner, label: str) -> ExitCode:
    """``runner.run()``, under cProfile when $POSTHORN_PROFILE names a directory.

    The statistics go to ``DIR/LABEL-PID.prof`` when the runner stops (read them with
    ``python -m pstats``): a profile of real posts through real processes.
    """
    folder = os.environ.get("POSTHORN_PROFILE")
    if not folder:
        return runner.run()
    # CPU time of this thread, not the wall clock: waits (fsync, the MTA) cost nothing.
    profile = cProfile.Profile(time.thread_time)
    try:
        return profile.runcall(runner.run)
    finally:
        profile.dump_stats(Path(folder) / f"{label}-{os.getpid()}.prof")


def run_runner(
    config: Config,
    name: str,
    cls: type[BaseRunner],
    *,
    slice: int = 0,
    count: int = 1,
    master_pid: int | None = None,
) -> int:
    """Be runner ``name`` (instance ``slice`` of ``count``) until it stops; return its exit code.

    Logging is set up afresh and the site taken over with pools of its own: nothing
    (database connections, open files) is shared with the master or a sibling.
    """
    return_large_blocks()
    run_site_jobs_aside()
    log = setup_logging(config, name)
    site: Site | None = None
    runner: BaseRunner | None = None
    try:
        site = _own_site(config)
        runner = cls(site, name, slice=slice, count=count)
        runner.master_pid = master_pid
        log.info("started, slice %d/%d", slice, count)
        code = _profiled(runner, f"{name}-{slice}")
    except ConfigError as error:
        log.error("configuration error: %s", error)
        return ExitCode.CONFIG
    except QueueUnavailable as error:
        # A broker down is no fault of the runner: restarted after a pause, not counted.
        log.error("queues unavailable: %s", error)
        return ExitCode.TEMPFAIL
    except StopRequested as stop:
        # A periodic job's wait for a site lock, given up on SIGTERM: it runs when due.
        log.info("%s; exiting", stop)
        return ExitCode.OK
    except Exception:
        log.exception("crashed")
        return 1
    finally:
        if runner is not None:
            runner.close()
        if site is not None:
            site.close()
    log.info("exiting: %s", code.name)
    return int(code)
