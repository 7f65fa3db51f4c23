"""``posthorn delivery LIST ADDRESS [MODE]``: show or set a member's delivery mode.

MODE is ``regular`` (every post) or a digest: ``mime_digests``,
``plaintext_digests`` or ``summary_digests`` (``mime``, ``plain`` and ``summary``
for short).  The REST API sets the same thing with ``PATCH members/{id}``.
"""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.errors import NotAMemberError
from posthorn.interfaces.lists import DeliveryMode

_MODES: dict[str, DeliveryMode] = {
    "regular": "regular",
    "mime_digests": "mime_digests",
    "plaintext_digests": "plaintext_digests",
    "summary_digests": "summary_digests",
    "mime": "mime_digests",
    "plain": "plaintext_digests",
    "summary": "summary_digests",
}


@click.command()
@click.argument("list_name", metavar="LIST")
@click.argument("address")
@click.argument("mode", required=False, type=click.Choice(sorted(_MODES)))
@pass_cli
def command(cli: CliContext, list_name: str, address: str, mode: str | None) -> None:
    """Show or set how ADDRESS receives the posts of LIST."""
    member = cli.site.lists.roster(list_name).get_member(address)
    if member is None:
        raise NotAMemberError(f"{address} is not a member of {list_name}")
    if mode is not None:
        member = cli.site.lists.update_member(member.member_id, delivery_mode=_MODES[mode])
    click.echo(f"{member.email}: {member.delivery_mode}")


command.name = "delivery"
