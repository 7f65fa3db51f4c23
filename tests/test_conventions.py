"""Guards for the project's conventions, so they hold without anyone remembering them."""

from __future__ import annotations

import configparser
import re
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = [ROOT / "src" / "posthorn", ROOT / "runners", ROOT / "queues", ROOT / "handlers"]


def schema_keys() -> list[tuple[str, str]]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.read_string(resources.files("posthorn.config").joinpath("schema.cfg").read_text())
    return [(section, key) for section in parser.sections() for key in parser[section]]


def documented_keys() -> dict[str, set[str]]:
    """Sections and keys of etc/posthorn.cfg, whether set or shown commented out."""
    found: dict[str, set[str]] = {}
    section = ""
    for line in (ROOT / "etc" / "posthorn.cfg").read_text().splitlines():
        text = line.lstrip("#").strip()
        heading = re.fullmatch(r"\[([^\]]+)\]", text)
        if heading:
            section = heading.group(1)
            found.setdefault(section, set())
        elif match := re.match(r"([a-z_][a-z0-9_]*)\s*:", text):
            found.setdefault(section, set()).add(match.group(1))
    return found


@pytest.mark.parametrize(("section", "key"), schema_keys())
def test_every_key_is_documented_in_the_site_file(section: str, key: str) -> None:
    documented = documented_keys()
    assert key in documented.get(section, set()), f"[{section}] {key} not in etc/posthorn.cfg"


def code_text() -> str:
    return "\n".join(path.read_text() for folder in CODE_DIRS for path in folder.rglob("*.py"))


@pytest.mark.parametrize(("section", "key"), schema_keys())
def test_every_key_is_read_somewhere(section: str, key: str) -> None:
    assert re.search(rf"[\"']{re.escape(key)}[\"']", code_text()), f"[{section}] {key} unread"


def test_no_bare_imports_of_the_mapped_folders() -> None:
    bare = re.compile(r"^\s*(from|import)\s+(runners|queues|handlers)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in [*CODE_DIRS, ROOT / "tests", ROOT / "bench"]
        for path in folder.rglob("*.py")
        if bare.search(path.read_text())
    ]
    assert offenders == []


def test_queues_never_import_the_core() -> None:
    core_import = re.compile(r"^\s*(from|import)\s+posthorn(?!\.queues)", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "queues").rglob("*.py")
        if core_import.search(path.read_text())
    ]
    assert offenders == []
