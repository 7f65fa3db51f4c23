"""``posthorn header-matches``: show, add, move and remove a list's header matches.

Matches are checked in position order and the first hit decides (see
docs/bans-and-header-matches.md); ``--add`` appends, ``--position`` then moves the new
match, ``--move FROM TO`` reorders, ``--remove N`` closes the gap after it.
"""

from __future__ import annotations

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.interfaces.header_matches import HEADER_MATCH_ACTIONS
from posthorn.model.header_matches import DatabaseHeaderMatches


@click.command()
@click.argument("list_name", metavar="LIST")
@click.option("-a", "--add", nargs=2, metavar="HEADER PATTERN", help="Append a header match.")
@click.option("--action", type=click.Choice(HEADER_MATCH_ACTIONS), help="With --add: its action.")
@click.option("--tag", help="With --add: a tag to find it by.")
@click.option("--position", type=int, help="With --add: move the new match here.")
@click.option("-m", "--move", nargs=2, type=int, metavar="FROM TO", help="Reorder a match.")
@click.option("-r", "--remove", type=int, metavar="POSITION", help="Remove the match there.")
@click.option("--clear", is_flag=True, help="Remove every match of the list.")
@pass_cli
def command(
    cli: CliContext, list_name: str, add: tuple[str, str] | None, action: str | None,
    tag: str | None, position: int | None, move: tuple[int, int] | None,
    remove: int | None, clear: bool,
) -> None:  # fmt: skip
    """List LIST's header matches in order, or change them."""
    list_id = cli.site.lists.require(list_name).list_id
    matches = DatabaseHeaderMatches.from_site(cli.site)
    if (action or tag or position is not None) and not add:
        raise click.UsageError("--action, --tag and --position go with --add")
    if clear:
        matches.clear(list_id)
        click.echo(f"Removed every header match of {list_id}")
    if add:
        added = matches.append(list_id, add[0], add[1], action, tag)
        if position is not None:
            added = matches.change(list_id, added.position, position=position)
        click.echo(f"Added at position {added.position}: {added.header}: {added.pattern}")
    if move:
        matches.change(list_id, move[0], position=move[1])
        click.echo(f"Moved the header match at {move[0]} to {move[1]}")
    if remove is not None:
        matches.remove(list_id, remove)
        click.echo(f"Removed the header match at {remove}")
    if clear or add or move or remove is not None:
        return
    for match in matches.of(list_id):
        extra = f"  [{match.tag}]" if match.tag else ""
        click.echo(
            f"{match.position:>3}  {match.header}: {match.pattern}"
            f"  -> {match.chain or 'default (the rule action)'}{extra}"
        )


command.name = "header-matches"
