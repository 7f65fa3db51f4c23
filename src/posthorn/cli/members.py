"""``posthorn members``: show a list's members, or add and remove them from a file.

Files (or ``-`` for standard input) hold one address a line, ``Name <addr>`` or a bare
``addr``; blank lines and lines starting with ``#`` are skipped.  A bad line is
reported with its number and the rest still go through; the command then exits 1, so a
script notices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO, cast

import click

from posthorn.address import parse_display_address
from posthorn.cli import CliContext, pass_cli
from posthorn.cli.progress import progress
from posthorn.errors import PosthornError
from posthorn.interfaces.lists import (
    DeliveryMode,
    DeliveryStatus,
    IListManager,
    IMailingList,
    IMember,
    Role,
)

ROLES = ("member", "owner", "moderator", "nonmember")
DIGESTS = ("any", "plaintext", "mime", "summary")


def _shown(member: IMember) -> str:
    return f"{member.display_name} <{member.email}>" if member.display_name else member.email


def _selected(
    members: Sequence[IMember], regular: bool, digest: str | None, nomail: bool
) -> list[IMember]:
    """Apply the delivery filters: regular or digest (of one kind), and disabled delivery."""
    chosen = list(members)
    if regular:
        chosen = [m for m in chosen if m.delivery_mode == "regular"]
    if digest == "any":
        chosen = [m for m in chosen if m.delivery_mode != "regular"]
    elif digest is not None:
        chosen = [m for m in chosen if m.delivery_mode == f"{digest}_digests"]
    if nomail:
        chosen = [m for m in chosen if m.delivery_status != "enabled"]
    return chosen


def read_address_lines(source: TextIO) -> list[tuple[int, str]]:
    """The address lines of a members file, numbered; blank and ``#`` lines left out."""
    try:
        lines = source.readlines()
    except UnicodeDecodeError:
        name = getattr(source, "name", "-")
        raise click.ClickException(f"{name} is not UTF-8 text; nothing was changed") from None
    numbered = [(number, line.strip()) for number, line in enumerate(lines, start=1)]
    return [(number, text) for number, text in numbered if text and not text.startswith("#")]


def each_address(
    lines: Sequence[tuple[int, str]], action: Callable[[str | None, str], object], label: str
) -> tuple[int, int]:
    """Run ``action(name, email)`` per address line; (done, failed), errors to stderr."""
    done = failed = 0
    for number, text in progress(lines, label):
        try:
            action(*parse_display_address(text))
        except PosthornError as error:
            failed += 1
            click.echo(f"line {number}: {error}", err=True)
        else:
            done += 1
    return done, failed


def _change(
    lists: IListManager,
    mlist: IMailingList,
    role: Role,
    adding: TextIO | None,
    deleting: TextIO | None,
    digest: str | None,
    nomail: bool,
) -> None:
    if adding is not None:
        mode = cast(DeliveryMode, f"{digest}_digests" if digest else "regular")

        def add(name: str | None, email: str) -> None:
            status: DeliveryStatus = "by_moderator" if nomail else "enabled"
            lists.subscribe(
                mlist,
                email,
                role=role,
                display_name=name,
                delivery_mode=mode,
                delivery_status=status,
            )

        done, failed = each_address(read_address_lines(adding), add, "Subscribing")
        click.echo(f"{mlist.fqdn_listname}: {done} added as {role}")
    else:
        assert deleting is not None
        lines = read_address_lines(deleting)
        done, failed = each_address(
            lines, lambda _, email: lists.unsubscribe(mlist, email, role), "Unsubscribing"
        )
        click.echo(f"{mlist.fqdn_listname}: {done} removed as {role}")
    if failed:
        raise click.ClickException(f"{failed} line{'s' if failed > 1 else ''} failed")


@click.command()
@click.argument("name", metavar="LIST")
@click.option("-r", "--role", type=click.Choice(ROLES), default="member", show_default=True,
              help="The roster to show or change.")  # fmt: skip
@click.option("-a", "--add", "adding", type=click.File("r", encoding="utf-8"), metavar="FILE",
              help="Subscribe the addresses in FILE ('-' for standard input).")  # fmt: skip
@click.option("-x", "--delete", "deleting", type=click.File("r", encoding="utf-8"), metavar="FILE",
              help="Unsubscribe the addresses in FILE ('-' for standard input).")  # fmt: skip
@click.option("--regular", is_flag=True, help="Only members getting every post.")
@click.option("--digest", type=click.Choice(DIGESTS), metavar="MODE",
              help="Only digest members (any, plaintext, mime, summary); with --add, "
                   "subscribe them to that kind of digest.")  # fmt: skip
@click.option("--nomail", is_flag=True,
              help="Only members whose delivery is off; with --add, add them so.")  # fmt: skip
@pass_cli
def command(
    cli: CliContext,
    name: str,
    role: str,
    adding: TextIO | None,
    deleting: TextIO | None,
    regular: bool,
    digest: str | None,
    nomail: bool,
) -> None:
    """Show the members of LIST, or add or remove them from a file."""
    if adding is not None and deleting is not None:
        raise click.UsageError("--add and --delete cannot be used together")
    if regular and digest is not None:
        raise click.UsageError("--regular and --digest cannot be used together")
    if adding is not None and digest == "any":
        raise click.UsageError("--add needs a digest kind: plaintext, mime or summary")
    lists = cli.site.lists
    mlist = lists.require(name)
    if adding is not None or deleting is not None:
        _change(lists, mlist, cast(Role, role), adding, deleting, digest, nomail)
        return
    members = lists.find_members(list_id=mlist.list_id, role=cast(Role, role))
    for member in _selected(members, regular, digest, nomail):
        click.echo(_shown(member))


command.name = "members"
