"""The registry resolves names lazily: built-ins, entry points and dotted paths."""

from __future__ import annotations

import sys

import pytest

from posthorn.registry import BUILTINS, Registry, RegistryError, import_dotted


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
