"""The remembering compat32 folds every header exactly as compat32 does."""

from __future__ import annotations

import random
import string
from email.policy import compat32

import pytest

from posthorn.messages.folding import CACHED_COMPAT32

NAMES = ["Subject", "X-H", "Received", "X-A-Rather-Long-Field-Name"]
# Every ASCII character (the controls among them split lines), a little non-ASCII, and
# surrogate escapes as a parser leaves undecodable bytes.
ALPHABET = [chr(c) for c in range(128)] + ["é", "\udce9", "  ", "=?utf-8?q?", "?="]
EDGES = ["", " ", "\t", "  a", "a  ", "a\x0bb", "a\x1cb", "a\rb", "a\n b", "a\nB: c"]


def values(count: int) -> list[str]:
    pick = random.Random(7)
    made = list(EDGES)
    for _ in range(count):
        # Mostly printable text, around the lengths where a line must fold.
        size = pick.choice([pick.randint(0, 30), pick.randint(55, 80), pick.randint(90, 200)])
        plain = string.printable[:95] + "\t"
        made.append("".join(pick.choice(ALPHABET if pick.random() < 0.05 else plain)
                            for _ in range(size)))  # fmt: skip
    return made


@pytest.mark.parametrize("max_line_length", [78, 0, None, 40])
@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
def test_folds_as_compat32(max_line_length: int | None, linesep: str) -> None:
    ours = CACHED_COMPAT32.clone(max_line_length=max_line_length, linesep=linesep)
    theirs = compat32.clone(max_line_length=max_line_length, linesep=linesep)
    for value in values(3000):
        name = NAMES[len(value) % len(NAMES)]
        for sanitize in (False, True):
            try:
                expected = theirs._fold(name, value, sanitize)  # type: ignore[attr-defined]
            except Exception as error:
                with pytest.raises(type(error)):
                    ours._fold(name, value, sanitize)
                continue
            assert ours._fold(name, value, sanitize) == expected, (name, value)


@pytest.mark.parametrize("max_line_length", [78, 0, None, 40])
@pytest.mark.parametrize("cte_type", ["8bit", "7bit"])
def test_folds_to_bytes_as_compat32(max_line_length: int | None, cte_type: str) -> None:
    ours = CACHED_COMPAT32.clone(max_line_length=max_line_length, cte_type=cte_type)
    theirs = compat32.clone(max_line_length=max_line_length, cte_type=cte_type)
    for value in values(3000):
        name = NAMES[len(value) % len(NAMES)]
        try:
            expected = theirs.fold_binary(name, value)
        except Exception as error:
            with pytest.raises(type(error)):
                ours.fold_binary(name, value)
            continue
        assert ours.fold_binary(name, value) == expected, (name, value)
