"""Parsers for the value types the schema names.

Each parser takes the raw string from an INI file and returns the typed value, or raises
ValueError with a message a person can act on; the loader adds file, section and key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
}
_NUMBER_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*([:.][A-Za-z_][\w]*)?$")
_TRUE = {"yes", "true", "on", "1"}
_FALSE = {"no", "false", "off", "0"}


def parse_str(raw: str) -> str:
    return raw


def parse_int(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {raw!r}") from None


def parse_float(raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise ValueError(f"expected a number, got {raw!r}") from None


def parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"expected yes or no, got {raw!r}")


def parse_duration(raw: str) -> float:
    """Seconds, as a float, from '250ms', '2m', '1.5h' or a bare number of seconds."""
    match = _NUMBER_UNIT.match(raw)
    unit = match.group(2).lower() if match else None
    if match is None or unit is None or (unit and unit not in _DURATION_UNITS):
        raise ValueError(f"expected a duration such as 250ms, 30s, 5m, 2h or 1d, got {raw!r}")
    return float(match.group(1)) * _DURATION_UNITS[unit or "s"]


def parse_size(raw: str) -> int:
    match = _NUMBER_UNIT.match(raw)
    if match is None or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"expected a size such as 512KB, 10MB or 1GB, got {raw!r}")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def parse_port(raw: str) -> int:
    port = parse_int(raw)
    if not 0 <= port <= 65535:
        raise ValueError(f"expected a port between 0 and 65535, got {port}")
    return port


def parse_power_of_two(raw: str) -> int:
    number = parse_int(raw)
    if number < 1 or number & (number - 1):
        raise ValueError(f"expected a power of two (1, 2, 4, 8, ...), got {number}")
    return number


def parse_list(raw: str) -> list[str]:
    return [word for word in re.split(r"[\s,]+", raw.strip()) if word]


def parse_dotted(raw: str) -> str:
    value = raw.strip()
    if value and not _DOTTED.match(value):
        raise ValueError(f"expected a Python import path like package.module.Name, got {raw!r}")
    return value


def parse_path(raw: str) -> str:
    # Resolution against a base directory happens in the loader, which knows the file.
    return raw.strip()


PARSERS: dict[str, Callable[[str], Any]] = {
    "str": parse_str,
    "int": parse_int,
    "float": parse_float,
    "bool": parse_bool,
    "duration": parse_duration,
    "size": parse_size,
    "port": parse_port,
    "power_of_two": parse_power_of_two,
    "list": parse_list,
    "dotted": parse_dotted,
    "path": parse_path,
}
