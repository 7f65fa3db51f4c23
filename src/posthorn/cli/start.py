"""``posthorn start``: start the master and its runners, in the background by default.

Everything that can fail -- the configuration, every runner section, the master lock,
the database upgrade -- is checked while the terminal is still there to show the error
(exit code 1).  In the background case the process that becomes the master takes the
lock itself, so that the lock names the pid that really holds it, and reports over a
pipe to this command, which returns once the master runs or has given up.
"""

from __future__ import annotations

import os
import sys

import click

from posthorn.cli import CliContext, describe_site_file, pass_cli
from posthorn.cli.info import lmtp_address, rest_address
from posthorn.config import Config
from posthorn.errors import PosthornError
from posthorn.logs import log_path, setup_logging
from posthorn.vardir import PRIVATE_UMASK


@click.command()
@click.option("--foreground", is_flag=True, help="Stay in the foreground (for systemd and tests).")
@click.option(
    "--force",
    is_flag=True,
    help="Break a master lock whose holder cannot be checked (another host, no pid file).",
)
@pass_cli
def command(cli: CliContext, foreground: bool, force: bool) -> None:
    """Start the master, which starts every configured runner."""
    # The one place the core hands over to the runners (see DESIGN.md).
    from posthorn.runners.master import Master, runner_specs

    # Before anything is created: every file and folder under var/ is private.
    os.umask(PRIVATE_UMASK)
    config = cli.config
    specs = runner_specs(config)
    if foreground:
        master = Master(config, specs, setup_logging(config, "master", stderr=True))
        master.prepare(force=force)
        sys.exit(master.run())
    pid = _daemonize(config, force)
    click.echo(f"Posthorn started (master pid {pid}); log: {log_path(config, 'master')}")
    click.echo(_summary(config, {spec.name for spec in specs}))


def _summary(config: Config, running: set[str]) -> str:
    """Where the site is, where it listens, how to stop it, what to read next."""
    me = sys.argv[0] if os.path.basename(sys.argv[0]) == "posthorn" else "posthorn"
    lines = [f"  site:   {config.path('var_dir')} (configuration: {describe_site_file(config)})"]
    if "lmtp" in running:
        lines.append(
            f"  LMTP:   {lmtp_address(config)} (for the MTA: `{me} aliases`, etc/postfix/)"
        )
    if "rest" in running:
        lines.append(f"  REST:   {rest_address(config)}")
    lines += [
        f"  stop:   {me} stop   (and `{me} status`, `{me} info`)",
        "  read:   README.md (Running it), docs/, `posthorn --help`",
    ]
    return "\n".join(lines)


def _daemonize(config: Config, force: bool) -> int:
    """Double-fork a detached master; return its pid once it reports it is running."""
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        code = 1
        try:
            os.close(read_fd)
            # The master and its runners live for months: a descriptor inherited from
            # whoever ran this command (a lock, a pipe a script waits on) must not.
            _close_inherited(keep=write_fd)
            # A new session without a terminal; the second fork makes sure the master
            # is not a session leader and can never acquire one again.
            os.setsid()
            code = _be_master(config, force, write_fd) if os.fork() == 0 else 0
        finally:
            os._exit(code)
    os.close(write_fd)
    os.waitpid(child, 0)
    with os.fdopen(read_fd, "rb") as pipe:
        report = pipe.read().decode("utf-8", "replace")
    word, _, rest = report.partition(" ")
    if word == "ok":
        return int(rest)
    raise PosthornError(rest or "the master exited before it started; see master.log")


def _be_master(config: Config, force: bool, report_fd: int) -> int:
    from posthorn.runners.master import Master, runner_specs

    # Leave the start directory (so it can be unmounted) without losing relative
    # entries of the import path that a runner may still need.
    sys.path[:] = [os.path.abspath(entry) for entry in sys.path]
    os.chdir("/")
    log = setup_logging(config, "master")
    try:
        master = Master(config, runner_specs(config), log)
        master.prepare(force=force)
    except Exception as error:
        if not isinstance(error, PosthornError):
            log.exception("the master could not start")
        os.write(report_fd, f"error {error}".encode())
        return 1
    os.write(report_fd, f"ok {os.getpid()}".encode())
    os.close(report_fd)
    _detach_stdio()
    return master.run()


def _close_inherited(keep: int) -> None:
    """Close every descriptor above stderr but ``keep``."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        os.closerange(3, keep)
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
        return
    for fd in fds:
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                continue  # the descriptor of the listing itself, already closed


def _detach_stdio() -> None:
    """Point stdin, stdout and stderr at /dev/null: the terminal may go away."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)


command.name = "start"
