"""Request parameters: reading form and JSON bodies and checking each field's type.

mailmanclient sends every body form-encoded, so a boolean arrives as the string
``True`` and a list as repeated keys; other clients send JSON with real types.  Both
land here and are checked against a declared spec, so a resource never sees a value
of the wrong type and an unknown key is refused (400 ``Unexpected parameters``) rather
than silently ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import falcon

from posthorn.address import validate_email
from posthorn.errors import InvalidAddressError, InvalidSettingError
from posthorn.i18n import check_language

__all__ = [
    "Body",
    "Converter",
    "Many",
    "as_bool",
    "as_email",
    "as_float",
    "as_int",
    "as_optional_str",
    "as_str",
    "bad_request",
    "check_languages",
    "one_of",
    "read_body",
    "read_fields",
]

if TYPE_CHECKING:
    from posthorn.config import Config

Converter = Callable[[Any], Any]
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def bad_request(description: str, title: str = "400 Bad Request") -> falcon.HTTPBadRequest:
    """The one shape of a 400 every resource raises."""
    return falcon.HTTPBadRequest(title=title, description=description)


def check_languages(config: Config, args: Mapping[str, Any]) -> None:
    """A language field must name one of the site's languages (None unsets it)."""
    value = args.get("preferred_language")
    if value is not None:
        try:
            check_language(config, "preferred_language", value)
        except InvalidSettingError as error:
            raise bad_request(f'Invalid Parameter "preferred_language": {error}') from None


@dataclass(frozen=True)
class Body:
    """A parsed request body: every key with all its values, and where they came from."""

    values: Mapping[str, list[Any]]
    is_json: bool = False


def read_body(req: falcon.Request, limit: int) -> Body:
    """Parse a form-encoded or JSON body of at most ``limit`` bytes (413 beyond)."""
    raw = req.bounded_stream.read(limit + 1)
    if len(raw) > limit:
        raise falcon.HTTPContentTooLarge(
            title="413 Payload Too Large", description=f"The body exceeds {limit} bytes."
        )
    if not raw.strip():
        return Body({})
    if (req.content_type or "").split(";")[0].strip().lower() == "application/json":
        return _json_body(raw)
    try:
        text = raw.decode("utf-8")
        parsed = parse_qs(text, keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise bad_request("The body is not valid form data.") from None
    return Body(parsed)


def _json_body(raw: bytes) -> Body:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise bad_request("The body is not valid JSON.", "400 Malformed JSON") from None
    if not isinstance(data, dict):
        raise bad_request("The JSON body must be an object.")
    return Body({key: [value] for key, value in data.items()}, is_json=True)


class Many:
    """A multi-valued field: repeated form keys, or a JSON array."""

    def __init__(self, item: Converter) -> None:
        self.item = item


def read_fields(
    given: Body | Mapping[str, list[Any]],
    spec: Mapping[str, Converter | Many],
    *,
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """Check every key against ``spec``; the converted values of the keys present.

    A JSON body has real types, so there a number or boolean given as a string is the
    wrong type; a form body has only strings, which are converted.
    """
    strict = isinstance(given, Body) and given.is_json
    values = given.values if isinstance(given, Body) else given
    unexpected = sorted(set(values) - set(spec))
    if unexpected:
        raise bad_request(f"Unexpected parameters: {', '.join(unexpected)}")
    missing = sorted(set(required) - set(values))
    if missing:
        raise bad_request(f"Missing parameters: {', '.join(missing)}")
    result: dict[str, Any] = {}
    for name, items in values.items():
        converter = spec[name]
        try:
            result[name] = _convert(converter, items, strict)
        except (ValueError, TypeError) as error:
            raise bad_request(f'Invalid Parameter "{name}": {error}') from None
    return result


def _convert(converter: Converter | Many, given: list[Any], strict: bool) -> Any:
    if isinstance(converter, Many):
        items = given[0] if len(given) == 1 and isinstance(given[0], list) else given
        return [_one(converter.item, item, strict) for item in items]
    if len(given) != 1:
        raise ValueError("given more than once")
    return _one(converter, given[0], strict)


def _one(converter: Converter, value: Any, strict: bool) -> Any:
    if strict and converter in (as_bool, as_int, as_float) and isinstance(value, str):
        raise ValueError("expected a JSON boolean or number, not a string")
    return converter(value)


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValueError(f"Invalid boolean value: {value!s:.40}")


def as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ValueError("expected an integer")


def as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("expected a number")
    return float(value)


def as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def as_optional_str(value: Any) -> str | None:
    """mailmanclient sends Python's None as the string ``None``."""
    if value is None or value == "None":
        return None
    return as_str(value)


def as_email(value: Any) -> str:
    try:
        return validate_email(as_str(value))
    except InvalidAddressError as error:
        raise ValueError(str(error)) from None


def one_of(*choices: str) -> Converter:
    """A converter accepting exactly ``choices``."""

    def convert(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"Accepted Values are: {', '.join(choices)}.")
        return str(value)

    return convert
