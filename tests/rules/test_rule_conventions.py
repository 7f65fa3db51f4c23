"""Conventions: one rule per module named after it, and every configured name resolves."""

from __future__ import annotations

import importlib
import pkgutil

import posthorn.rules
from posthorn.config import load_config
from posthorn.registry import BUILTINS, Registry


def test_every_rule_module_is_registered_under_its_own_name() -> None:
    for info in pkgutil.iter_modules(posthorn.rules.__path__):
        name = info.name.replace("_", "-")
        assert name in BUILTINS["rule"], f"rules/{info.name}.py is not in BUILTINS['rule']"
        module_path, _, attr = BUILTINS["rule"][name].partition(":")
        module = importlib.import_module(module_path)
        assert module_path == f"posthorn.rules.{info.name}"
        assert getattr(module, attr).name == name


def test_every_configured_rule_and_chain_resolves() -> None:
    registry = Registry()
    config = load_config(None)
    for entry in config["chain.default-posting-chain"].get_list("rules"):
        assert registry.load("rule", entry.partition("=")[0]).name == entry.partition("=")[0]
    for name in BUILTINS["chain"]:
        assert registry.load("chain", name).name == name
