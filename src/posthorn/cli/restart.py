"""``posthorn restart``: restart every runner (SIGUSR1 to the master).

The master stays, and so does its configuration: to apply a changed configuration,
use ``posthorn stop`` and ``posthorn start``.  Runners that had given up (after
``max_restarts``) or stopped for a configuration error are started again too.
"""

from __future__ import annotations

import signal

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.runstate import signal_master


@click.command()
@pass_cli
def command(cli: CliContext) -> None:
    """Restart every runner; each finishes the entry in hand first."""
    master = signal_master(cli.config, signal.SIGUSR1)
    click.echo(f"Posthorn runners restarting (master pid {master.pid})")


command.name = "restart"
