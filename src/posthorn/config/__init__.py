"""The configuration: built-in schema overlaid by one site file.

The schema (`schema.cfg` beside this module) is the single list of every key, its type
and its default.  A site file may only change values, so a typo is an error that names
the file, the section and the key rather than a setting silently ignored.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from posthorn.config.types import PARSERS

__all__ = [
    "BUILTIN",
    "DEFAULT_SITE_FILE",
    "Config",
    "ConfigError",
    "Section",
    "find_site_file",
    "load_config",
]

BUILTIN = "<built-in>"
TEMPLATE_PREFIXES = ("runner", "archiver", "language")
DEFAULT_SITE_FILE = Path("etc") / "posthorn.cfg"
_REFERENCE = re.compile(r"\$(\w+)")


class ConfigError(Exception):
    """A configuration problem, told as file, section and key."""

    def __init__(
        self, message: str, file: str = BUILTIN, section: str | None = None, key: str | None = None
    ) -> None:
        self.message = message
        self.file = file
        self.section = section
        self.key = key
        where = file
        if section is not None:
            where += f": [{section}]"
        if key is not None:
            where += f" {key}"
        super().__init__(f"{where}: {message}")


@dataclass
class _Value:
    type: str
    raw: str
    source: str = BUILTIN
    value: Any = None
    # The built-in default as written, when a file set this value (for ``conf -n``).
    default: str | None = None
    written: str | None = None


@dataclass
class Section(Mapping[str, Any]):
    """One section's typed values; the typed getters keep callers honest under mypy."""

    name: str
    _values: dict[str, _Value] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self._values[key].value

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def _typed(self, key: str, kind: type) -> Any:
        value = self[key]
        if not isinstance(value, kind):
            raise TypeError(f"[{self.name}] {key} is {type(value).__name__}, not {kind.__name__}")
        return value

    def get_str(self, key: str) -> str:
        return str(self._typed(key, str))

    def get_int(self, key: str) -> int:
        return int(self._typed(key, int))

    def get_bool(self, key: str) -> bool:
        return bool(self._typed(key, bool))

    def get_float(self, key: str) -> float:
        """A float or a duration (in seconds)."""
        return float(self._typed(key, (int, float)))  # type: ignore[arg-type]

    def get_list(self, key: str) -> list[str]:
        return list(self._typed(key, list))

    def get_path(self, key: str) -> Path | None:
        value = self[key]
        return None if value is None else Path(value)

    def raw(self, key: str) -> str:
        return self._values[key].raw

    def source(self, key: str) -> str:
        return self._values[key].source

    def changed(self, key: str) -> bool:
        """Set by a file or an override to something other than the built-in default."""
        value = self._values[key]
        return value.source != BUILTIN and value.default != value.written

    def type_of(self, key: str) -> str:
        return self._values[key].type


class Config:
    """The effective configuration of one site."""

    def __init__(self, sections: dict[str, Section], site_file: Path | None) -> None:
        self._sections = sections
        self.site_file = site_file

    def __getitem__(self, name: str) -> Section:
        try:
            return self._sections[name]
        except KeyError:
            raise ConfigError("no such section", section=name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._sections

    @property
    def section_names(self) -> list[str]:
        return list(self._sections)

    def named(self, prefix: str) -> list[str]:
        """The NAMEs of every [prefix.NAME] section, e.g. every configured runner."""
        start = prefix + "."
        return [name[len(start) :] for name in self._sections if name.startswith(start)]

    def runner(self, name: str) -> Section:
        return self[f"runner.{name}"]

    def path(self, key: str) -> Path:
        value = self["paths"].get_path(key)
        if value is None:
            raise ConfigError("is not set", section="paths", key=key)
        return value

    def dump(
        self, section: str | None = None, key: str | None = None, *, changed_only: bool = False
    ) -> str:
        names = [section] if section is not None else self.section_names
        out: list[str] = []
        for name in names:
            body = self[name]
            if key is not None and key not in body:
                raise ConfigError("no such key", section=name, key=key)
            if key is not None:
                return body.raw(key)
            keys = [k for k in body if body.changed(k)] if changed_only else list(body)
            if changed_only and not keys:
                continue
            out.append(f"[{name}]")
            out.extend(f"{k}: {body.raw(k)}".rstrip() for k in keys)
            out.append("")
        return "\n".join(out).rstrip() + "\n"


def _read_ini(text: str, source: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(
        interpolation=None, delimiters=("=", ":"), comment_prefixes=("#", ";"), strict=True
    )
    try:
        parser.read_string(text, source=source)
    except configparser.Error as error:
        raise ConfigError(f"not a valid INI file: {error.message}", file=source) from None
    return parser


def _load_schema() -> dict[str, dict[str, _Value]]:
    text = resources.files("posthorn.config").joinpath("schema.cfg").read_text("utf-8")
    parser = _read_ini(text, "schema.cfg")
    schema: dict[str, dict[str, _Value]] = {}
    for name in parser.sections():
        entries: dict[str, _Value] = {}
        for key, spec in parser.items(name, raw=True):
            kind, sep, default = spec.partition(":")
            kind = kind.strip()
            if not sep or kind not in PARSERS:
                raise ConfigError(f"bad schema entry {spec!r}", "schema.cfg", name, key)
            entries[key] = _Value(kind, default.strip())
        schema[name] = entries
    return schema


def _template_for(section: str) -> str | None:
    prefix, dot, rest = section.partition(".")
    if dot and rest and rest != "*" and prefix in TEMPLATE_PREFIXES:
        return f"{prefix}.*"
    return None


def _concrete_sections(schema: dict[str, dict[str, _Value]]) -> dict[str, dict[str, _Value]]:
    concrete: dict[str, dict[str, _Value]] = {}
    for name, entries in schema.items():
        if name.endswith(".*"):
            continue
        template = _template_for(name)
        merged = {k: _Value(v.type, v.raw) for k, v in schema.get(template or "", {}).items()}
        merged.update({k: _Value(v.type, v.raw) for k, v in entries.items()})
        concrete[name] = merged
    return concrete


def _overlay(
    sections: dict[str, dict[str, _Value]],
    schema: dict[str, dict[str, _Value]],
    values: Mapping[str, Mapping[str, str]],
    source: str,
) -> None:
    for name, entries in values.items():
        if name not in sections:
            template = _template_for(name)
            if template is None or template not in schema:
                raise ConfigError("unknown section", source, name)
            sections[name] = {k: _Value(v.type, v.raw) for k, v in schema[template].items()}
        target = sections[name]
        for key, raw in entries.items():
            if key not in target:
                raise ConfigError("unknown key", source, name, key)
            old = target[key]
            default = old.default if old.source != BUILTIN else old.raw
            text = str(raw).strip()
            target[key] = _Value(old.type, text, source, default=default, written=text)


def _base_dir(source: str, site: Path | None) -> Path:
    """Where a relative path of ``source`` starts: its own file's folder, else the site file's.

    Never the working directory when there is a site file: cron and systemd run
    commands elsewhere, and a path that followed them would quietly open another site.
    """
    if source != BUILTIN and Path(source).exists():
        return Path(source).resolve().parent
    return site.parent if site is not None else Path()


def _resolve(sections: dict[str, dict[str, _Value]], site: Path | None) -> None:
    """Substitute $references to [paths] keys and parse every value to its type."""
    paths = sections["paths"]
    var = paths["var_dir"]
    var.raw = str((_base_dir(var.source, site) / var.raw).resolve())
    known = {"var_dir": var.raw}

    def substitute(value: _Value, section: str, key: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in known:
                if name in paths:
                    known[name] = substitute(paths[name], "paths", name)
                    return known[name]
                raise ConfigError(f"unknown reference ${name}", value.source, section, key)
            return known[name]

        text = _REFERENCE.sub(replace, value.raw)
        if value.type == "path" and text:
            text = str((_base_dir(value.source, site) / text).resolve())
        return text

    for section, entries in sections.items():
        for key, value in entries.items():
            value.raw = substitute(value, section, key)
            if section == "paths":
                known[key] = value.raw
            if value.type == "path" and not value.raw:
                value.value = None
                continue
            try:
                value.value = PARSERS[value.type](value.raw)
            except ValueError as error:
                raise ConfigError(str(error), value.source, section, key) from None


def find_site_file(path: str | os.PathLike[str] | None = None) -> Path | None:
    """-C FILE, else $POSTHORN_CONFIG, else etc/posthorn.cfg if present, else none."""
    chosen = path or os.environ.get("POSTHORN_CONFIG")
    if chosen:
        site = Path(chosen)
        if not site.is_file():
            raise ConfigError("configuration file not found", file=str(site))
        return site.resolve()
    return DEFAULT_SITE_FILE.resolve() if DEFAULT_SITE_FILE.is_file() else None


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Config:
    """Build the effective configuration; overrides win over the site file (tests use them)."""
    schema = _load_schema()
    sections = _concrete_sections(schema)
    site = find_site_file(path)
    if site is not None:
        try:
            text = site.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read: {error}", file=str(site)) from None
        parser = _read_ini(text, str(site))
        site_values = {name: dict(parser.items(name, raw=True)) for name in parser.sections()}
        _overlay(sections, schema, site_values, str(site))
    if overrides:
        _overlay(sections, schema, overrides, "<overrides>")
    _resolve(sections, site)
    return Config({name: Section(name, values) for name, values in sections.items()}, site)
