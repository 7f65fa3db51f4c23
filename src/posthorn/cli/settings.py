"""``posthorn settings``: show a list's settings, or change some of them.

``--set NAME=VALUE`` may be given several times; the changes are checked together
(``posthorn.model.settings.check_settings``, the same check REST applies) and made all
or none.  A text setting takes VALUE as written; any other reads it as JSON (``true``,
``5``, ``["a@example.org"]``), a bare word standing for itself (a choice such as
``hold``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.errors import InvalidSettingError
from posthorn.i18n import check_language
from posthorn.model.settings import READ_ONLY, setting_types


def _value(name: str, text: str) -> Any:
    hint = setting_types().get(name)
    if hint is str or name in READ_ONLY:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _changes(assignments: tuple[str, ...]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        if not equals:
            raise InvalidSettingError(assignment, f"--set {assignment}: expected NAME=VALUE")
        changes[name.strip()] = _value(name.strip(), text)
    return changes


@click.command()
@click.argument("name", metavar="LIST")
@click.option(
    "-s", "--set", "assignments", multiple=True, metavar="NAME=VALUE",
    help="Change a setting (repeatable; all or none are changed).",
)  # fmt: skip
@pass_cli
def command(cli: CliContext, name: str, assignments: tuple[str, ...]) -> None:
    """Show the settings of LIST, or change them with --set."""
    lists = cli.site.lists
    mlist = lists.require(name)
    if assignments:
        changes = _changes(assignments)
        if "preferred_language" in changes:
            try:
                check_language(cli.site.config, "preferred_language", changes["preferred_language"])
            except InvalidSettingError as error:
                raise click.ClickException(f"--set preferred_language: {error}") from None
        lists.update(mlist, **changes)
        click.echo(f"Changed {', '.join(sorted(changes))} of {mlist.fqdn_listname}")
        return
    for setting in sorted(setting_types()):
        click.echo(f"{setting}: {json.dumps(getattr(mlist, setting), default=list)}")


command.name = "settings"
