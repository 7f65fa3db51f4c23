"""Conventions: every configured rule and chain name resolves (naming: tests/test_naming.py)."""

from __future__ import annotations

from posthorn.config import load_config
from posthorn.registry import BUILTINS, Registry


def test_every_configured_rule_and_chain_resolves() -> None:
    registry = Registry()
    config = load_config(None)
    for entry in config["chain.default-posting-chain"].get_list("rules"):
        assert registry.load("rule", entry.partition("=")[0]).name == entry.partition("=")[0]
    for name in BUILTINS["chain"]:
        assert registry.load("chain", name).name == name
