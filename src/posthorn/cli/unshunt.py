"""``posthorn unshunt``: send shunted entries back to the queue they failed in.

Run it after fixing whatever made a runner fail on them; each entry returns with its
attempt counter reset, and keeps its place in line.  ``--queue dead`` re-queues the
posts the MTA refused as a whole, to the recipients it refused them for.
"""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.queuing import queue_store


@click.command()
@click.option("--queue", "from_queue", default="shunt", show_default=True,
              help="The queue to empty (shunt, dead, or a copy of one).")  # fmt: skip
@pass_cli
def command(cli: CliContext, from_queue: str) -> None:
    """Re-queue every shunted entry to its original queue."""
    store = queue_store(cli.existing_config)
    if not store.exists(from_queue):
        click.echo(f"nothing to unshunt: {store.location(from_queue)} does not exist")
        return
    with store.open(from_queue) as shunt:
        moved = shunt.unshunt()
        left = shunt.count()
    for filebase, queue in moved:
        click.echo(f"{filebase} -> {queue}")
    click.echo(f"{len(moved)} entries re-queued")
    if left:
        raise click.ClickException(f"{left} entries could not be re-queued; see the log")


command.name = "unshunt"
