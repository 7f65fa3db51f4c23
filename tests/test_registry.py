"""The registry resolves names lazily: built-ins, entry points and dotted paths."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from posthorn.registry import (
    BUILTINS,
    Registry,
    RegistryError,
    forget_plugins,
    import_dotted,
    plugin_entry_points,
)


@pytest.fixture
def fresh_plugins() -> Iterator[None]:
    forget_plugins()
    yield
    forget_plugins()


def install_plugin(site_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution on sys.path naming ``collections:OrderedDict`` as handler ``sample``."""
    info = site_dir / "sample_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sample-plugin\nVersion: 1.0\n")
    entries = "[posthorn.handlers]\nsample = collections:OrderedDict\n"
    (info / "entry_points.txt").write_text(entries)
    monkeypatch.syspath_prepend(str(site_dir))


@pytest.mark.usefixtures("fresh_plugins")
def test_entry_points_are_read_once_until_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "sample" not in {ep.name for ep in plugin_entry_points("posthorn.handlers")}
    install_plugin(tmp_path, monkeypatch)
    # Read once per process: the master reads them before forking its runners.
    assert "sample" not in Registry().names("handler")
    forget_plugins()
    assert "sample" in Registry().names("handler")
    from collections import OrderedDict

    assert Registry().load("handler", "sample") is OrderedDict


def test_builtins_resolve_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BUILTINS["handler"], "sample", "collections:OrderedDict")
    registry = Registry()
    assert "sample" in registry.names("handler")
    from collections import OrderedDict

    assert registry.load("handler", "sample") is OrderedDict


def test_dotted_paths_resolve_in_both_spellings() -> None:
    registry = Registry()
    assert registry.load("archiver", "os.path:join") is import_dotted("os.path.join")


def test_unknown_name_lists_what_is_known() -> None:
    with pytest.raises(RegistryError, match=r"no user manager named 'nope' \(known: database"):
        Registry().load("user_manager", "nope")


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("no_such_module_xyz:thing", "cannot import"), ("os:no_such_attr", "has no")],
)
def test_bad_dotted_paths_say_why(path: str, fragment: str) -> None:
    with pytest.raises(RegistryError, match=fragment):
        import_dotted(path)


def test_nothing_is_imported_until_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BUILTINS["rule"], "lazy", "xml.dom.pulldom:PullDOM")
    monkeypatch.delitem(sys.modules, "xml.dom.pulldom", raising=False)
    registry = Registry()
    assert "lazy" in registry.names("rule")
    assert "xml.dom.pulldom" not in sys.modules
    registry.load("rule", "lazy")
    assert "xml.dom.pulldom" in sys.modules
