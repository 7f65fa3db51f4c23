"""``posthorn syncmembers LIST FILE``: make a list's members exactly those of a file.

FILE (``-`` for standard input) has the format of ``posthorn members --add``: one
address a line, ``Name <addr>`` or a bare ``addr``; blank lines and lines starting
with ``#`` are skipped.  Addresses compare without regard to case.  Addresses in the
file but not on the list are subscribed (regular delivery), members not in the file
are unsubscribed; nothing else about a member changes.  ``--dry-run`` only tells.  A
bad line is reported with its number and the command exits 1 without removing anyone,
so a typo cannot unsubscribe the member it was meant to keep.
"""

from __future__ import annotations

from typing import TextIO

import click

from posthorn.address import parse_display_address
from posthorn.cli import CliContext, pass_cli
from posthorn.cli.members import each_address, read_address_lines
from posthorn.errors import PosthornError


@click.command()
@click.argument("name", metavar="LIST")
@click.argument("source", metavar="FILE", type=click.File("r", encoding="utf-8"))
@click.option("-n", "--dry-run", is_flag=True, help="Show the changes, make none.")
@pass_cli
def command(cli: CliContext, name: str, source: TextIO, dry_run: bool) -> None:
    """Subscribe and unsubscribe so that LIST's members are the addresses in FILE."""
    lines = read_address_lines(source)
    wanted: dict[str, str | None] = {}
    bad = 0
    for number, text in lines:
        try:
            display, email = parse_display_address(text)
        except PosthornError as error:
            click.echo(f"line {number}: {error}", err=True)
            bad += 1
            continue
        wanted.setdefault(email.lower(), display)
    if bad:
        raise click.ClickException(f"{bad} bad line{'s' if bad > 1 else ''}; nothing changed")
    lists = cli.site.lists
    mlist = lists.require(name)
    current = {m.email.lower(): m.email for m in lists.find_members(list_id=mlist.list_id,
                                                                   role="member")}  # fmt: skip
    adding = [(n, f"{d} <{e}>" if d else e) for n, (e, d) in enumerate(wanted.items())
              if e not in current]  # fmt: skip
    removing = [(n, current[e]) for n, e in enumerate(sorted(current)) if e not in wanted]
    for _, text in adding:
        click.echo(f"add: {text}")
    for _, email in removing:
        click.echo(f"remove: {email}")
    if dry_run:
        click.echo(f"{mlist.fqdn_listname}: would add {len(adding)}, remove {len(removing)} "
                   "(dry run, nothing changed)")  # fmt: skip
        return
    added, failed = each_address(
        adding, lambda d, e: lists.subscribe(mlist, e, display_name=d), "Subscribing"
    )
    removed, failed_too = each_address(
        removing, lambda _, e: lists.unsubscribe(mlist, e), "Unsubscribing"
    )
    unchanged = len(current) - len(removing)
    click.echo(f"{mlist.fqdn_listname}: {added} added, {removed} removed, {unchanged} unchanged")
    if failed or failed_too:
        raise click.ClickException(f"{failed + failed_too} changes failed")


command.name = "syncmembers"
