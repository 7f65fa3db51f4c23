"""``posthorn reopen``: reopen every log file (SIGHUP to the master), after logrotate."""

from __future__ import annotations

import signal

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.runstate import signal_master


@click.command()
@pass_cli
def command(cli: CliContext) -> None:
    """Reopen the log files of the master and every runner."""
    master = signal_master(cli.config, signal.SIGHUP)
    click.echo(f"Posthorn log files reopening (master pid {master.pid})")


command.name = "reopen"
