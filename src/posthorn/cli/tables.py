"""The one layout of every listing: a header line, then tab-separated rows; or JSON.

Scripts cut the columns by name from the header (or read ``--json``), and people see
what each column is.  Tabs and line breaks inside a value become spaces so a row stays
one line with a fixed number of fields.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

__all__ = ["json_option", "print_table"]

F = TypeVar("F", bound=Callable[..., Any])


def json_option(function: F) -> F:
    """``--json``: the rows as a JSON list of objects, keyed as the header names them."""
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(
        function
    )


def _cell(value: object) -> str:
    text = "-" if value is None or value == "" else str(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def print_table(columns: Sequence[str], rows: Sequence[dict[str, Any]], as_json: bool) -> None:
    """Print ``rows`` (dicts with every one of ``columns``) in the one layout."""
    if as_json:
        click.echo(json.dumps([{c: row[c] for c in columns} for row in rows], indent=2))
        return
    click.echo("\t".join(columns))
    for row in rows:
        click.echo("\t".join(_cell(row[column]) for column in columns))
