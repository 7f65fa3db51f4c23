"""Guards for the project's conventions, so they hold without anyone remembering them."""

from __future__ import annotations

import ast
import configparser
import dataclasses
import re
from graphlib import CycleError, TopologicalSorter
from importlib import resources
from pathlib import Path

import pytest

from posthorn.model.settings import FOR_FRONT_ENDS, UNSUPPORTED, ListSettings

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


# Where a queue's storage may be named: the queue library, the one factory, and the
# master's creation of var/'s folders.
QUEUE_FACTORY = {"src/posthorn/queuing.py", "src/posthorn/vardir.py"}


def test_queues_are_made_only_by_the_factory() -> None:
    """Outside queues/, nothing builds a backend's queue or knows its files and claims."""
    internals = re.compile(
        r"\b(Switchboard|FileStore)\(|\.bak\b|[\"']\.pck[\"']|path\([\"']queue_dir[\"']\)"
    )
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for folder in CODE_DIRS
        if folder != ROOT / "queues"
        for path in folder.rglob("*.py")
        if str(path.relative_to(ROOT)) not in QUEUE_FACTORY
        for match in [internals.search(path.read_text())]
        if match
    ]
    assert offenders == []


# Files that declare, store, serve or import list settings: their mention is no reader.
_SETTING_KEEPERS = ("model/settings.py", "model/lists.py", "interfaces/settings.py",
                    "importers/", "rest/", "cli/")  # fmt: skip


def test_every_list_setting_is_read_or_refused() -> None:
    """A stored list setting nothing acts on is a promise broken: read it or refuse it."""
    texts = [
        path.read_text()
        for folder in CODE_DIRS
        for path in folder.rglob("*.py")
        if not any(part in path.as_posix() for part in _SETTING_KEEPERS)
    ]
    code = "\n".join(texts)
    unread = []
    for field in dataclasses.fields(ListSettings):
        name = field.name
        if name in UNSUPPORTED or name in FOR_FRONT_ENDS:
            continue
        # mlist.NAME, "NAME", or an f-string name such as f"{action}_these_nonmembers".
        tail = name.partition("_")[2]
        reader = rf"\.{name}\b|[\"']{name}[\"']|\}}_{re.escape(tail)}[\"']"
        if not re.search(reader, code):
            unread.append(name)
    assert unread == [], f"list settings stored but read by nothing: {unread}"


MAX_LINES = 400


def test_no_module_is_over_400_lines() -> None:
    """A module past 400 lines usually holds two ideas: split it, don't raise the limit."""
    skipped = {".venv", "build", "var", "node_modules"}
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines())
        for path in ROOT.rglob("*.py")
        if not skipped & set(path.relative_to(ROOT).parts[:-1])
        and not path.relative_to(ROOT).parts[0].startswith(".")
    }
    over = {name: size for name, size in sizes.items() if size > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines: {over}"


def _model_imports(path: Path) -> set[str]:
    """The posthorn.model modules a model module imports, at the top or in a function.

    Imports under ``if TYPE_CHECKING:`` are left out: they never run.
    """
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text())]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            found.update(name for name in names if name.startswith("posthorn.model."))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("posthorn.model."))
        pending.extend(ast.iter_child_nodes(node))
    return found


def test_model_modules_import_one_another_without_cycles() -> None:
    """Parts of one manager are composed, not mixed in: none needs another's module."""
    folder = ROOT / "src" / "posthorn" / "model"
    modules = {f"posthorn.model.{path.stem}": path for path in folder.glob("*.py")}
    modules.pop("posthorn.model.__init__")
    graph = {name: _model_imports(path) & set(modules) for name, path in modules.items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"model modules import one another in a cycle: {error.args[1]}")
