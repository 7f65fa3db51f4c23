"""``posthorn restart``: apply a changed configuration file without stopping the site.

The file is read and checked here first, as ``posthorn start`` checks it; a wrong file
is refused with the error, and the running site keeps its configuration.  A good file
makes the master (SIGUSR1) read it again and restart every runner on it; each runner
finishes the entry in hand first.  Runners that had given up (after ``max_restarts``)
or stopped for a configuration error start again too.  The paths cannot change while
the site runs: that takes ``posthorn stop`` and ``posthorn start``.
"""

from __future__ import annotations

import signal

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.config import ConfigError
from posthorn.runstate import MasterFiles, read_state, running_master, signal_master


@click.command()
@pass_cli
def command(cli: CliContext) -> None:
    """Re-read and check the configuration file, then restart every runner on it.

    A wrong file is refused (exit 1, the error named) and the running site keeps its
    configuration.  Each runner finishes the entry in hand first.  [paths] cannot
    change while running: use stop and start for that.
    """
    from posthorn.runners.reload import reread

    try:
        config = cli.config
        reread(config)
    except ConfigError as error:
        raise click.ClickException(
            f"{error}\nNot restarted: the running site keeps its configuration."
        ) from None
    state = read_state(MasterFiles.of(config).state) or {}
    used = state.get("master", {}).get("config")
    mine = str(config.site_file) if config.site_file else None
    if running_master(config) is not None and used != mine:
        raise click.ClickException(
            f"the running master reads {used or 'built-in defaults'}, not "
            f"{mine or 'built-in defaults'}; give that file with -C. Not restarted."
        )
    master = signal_master(config, signal.SIGUSR1)
    click.echo(f"Posthorn restarting every runner on {config.site_file or 'built-in defaults'} "
               f"(master pid {master.pid})")  # fmt: skip


command.name = "restart"
