"""``posthorn findmember REGEX``: every membership whose address matches, across lists.

The search is a Python regular expression, case-insensitive, matched anywhere in the
address (as Mailman's ``findmember``); ``--role`` narrows it to one roster.
"""

from __future__ import annotations

import re
from typing import cast

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.cli.members import ROLES
from posthorn.cli.tables import json_option, print_table
from posthorn.errors import PosthornError
from posthorn.interfaces.lists import Role


@click.command()
@click.argument("pattern", metavar="REGEX")
@click.option("-r", "--role", type=click.Choice(ROLES), help="Only this role.")
@json_option
@pass_cli
def command(cli: CliContext, pattern: str, role: str | None, as_json: bool) -> None:
    """List every address matching REGEX, with each list and role it holds."""
    try:
        wanted = re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise PosthornError(f"not a regular expression: {pattern!r}: {error}") from None
    found = cli.site.lists.find_members(role=cast(Role, role) if role else None)
    rows = [
        {"email": m.email, "list_id": m.list_id, "role": m.role}
        for m in found
        if wanted.search(m.email)
    ]
    rows.sort(key=lambda row: (row["email"], row["list_id"], row["role"]))
    print_table(("email", "list_id", "role"), rows, as_json)
    if not rows:
        raise SystemExit(1)


command.name = "findmember"
