"""A progress bar for long operations, on a terminal only.

Drawn on standard error while a person watches (standard error is a terminal); on a
pipe, in cron or under a test runner it is not drawn at all, so logs and mail from
cron carry only the results.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TypeVar

import click

__all__ = ["progress"]

T = TypeVar("T")
# Fewer items than this finish before a bar would tell anyone anything.
MIN_ITEMS = 2


def progress(items: Sequence[T], label: str) -> Iterator[T]:
    """Yield ``items``, drawing a bar on standard error if it is a terminal."""
    if len(items) < MIN_ITEMS or not sys.stderr.isatty():
        yield from items
        return
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
        yield from bar
