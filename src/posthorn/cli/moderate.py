"""``posthorn moderate LIST ID ACTION``: decide on a held post.

accept sends it on to the pipeline as approved; reject tells the poster (with
``--reason``, else the reason it was held); discard forgets it; defer leaves it held.
The same function serves the REST API (``posthorn.moderation.moderate``).
"""

from __future__ import annotations

from typing import cast

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.moderation import Decision, moderate


@click.command()
@click.argument("listname")
@click.argument("request_id", type=int)
@click.argument("action", type=click.Choice(["accept", "reject", "discard", "defer"]))
@click.option("--reason", help="Why (sent to the poster on reject).")
@pass_cli
def command(
    cli: CliContext, listname: str, request_id: int, action: str, reason: str | None
) -> None:
    """Accept, reject, discard or defer held message REQUEST_ID of LISTNAME."""
    site = cli.site
    mlist = site.lists.require(listname)
    held = moderate(site, mlist, request_id, cast(Decision, action), reason=reason)
    click.echo(f"{action}: request {request_id} ({held.subject}) from {held.sender}")


command.name = "moderate"
