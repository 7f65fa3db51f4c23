"""``posthorn stop``: stop the master; each runner finishes the entry in hand first."""

from __future__ import annotations

import signal

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.errors import PosthornError
from posthorn.runstate import signal_master


@click.command()
@click.option(
    "--timeout",
    type=float,
    help="Seconds to wait for the master to exit (default: [master] stop_timeout + 10).",
)
@pass_cli
def command(cli: CliContext, timeout: float | None) -> None:
    """Stop the master and every runner, and wait until they are gone."""
    config = cli.config
    master = signal_master(config, signal.SIGTERM)
    # The master waits up to stop_timeout for its runners before killing them.
    limit = config["master"].get_float("stop_timeout") + 10 if timeout is None else timeout
    if not master.wait_gone(limit):
        raise PosthornError(f"the master (pid {master.pid}) has not stopped within {limit:g}s")
    click.echo(f"Posthorn stopped (master pid {master.pid})")


command.name = "stop"
