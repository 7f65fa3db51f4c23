"""One name everywhere: a built-in lives in a module named after it, under its kind's folder.

A rule, handler, chain, email command, runner or archiver called ``max-size`` is the
module ``max_size`` of its package and is listed under that name in the registry's
one table; where the class carries its name (rules, handlers, chains, commands), it is
the same name.  A module in those folders that is not a built-in is a support module
and is named below, so a new file that was never registered is caught.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from posthorn.registry import BUILTINS

PACKAGES = {
    "rule": "posthorn.rules",
    "handler": "posthorn.handlers",
    "chain": "posthorn.chains",
    "command": "posthorn.commands",
    "runner": "posthorn.runners",
    "archiver": "posthorn.archivers",
}
# Kinds whose instances are named by the configuration, not by a class attribute.
NAMED_BY_CONFIG = {"runner", "archiver"}
SUPPORT = {
    "rule": set(),
    "handler": {"base"},
    "chain": set(),
    "command": set(),
    "runner": {
        "aside",
        "base",
        "budget",
        "heap",
        "listening",
        "master",
        "orphans",
        "process",
        "reload",
    }
    | {"retrying", "signals", "slots", "watchdog"},
    "archiver": {"base", "lmtp_server", "loading", "status", "store"},
}


def module_name(name: str) -> str:
    return name.replace("-", "_")


@pytest.mark.parametrize("kind", sorted(PACKAGES))
def test_every_built_in_is_in_the_module_named_after_it(kind: str) -> None:
    for name, path in BUILTINS[kind].items():
        module_path, _, attr = path.partition(":")
        assert module_path == f"{PACKAGES[kind]}.{module_name(name)}", (kind, name, path)
        implementation = getattr(importlib.import_module(module_path), attr)
        if kind not in NAMED_BY_CONFIG:
            assert implementation.name == name, (kind, name, implementation)


@pytest.mark.parametrize("kind", sorted(PACKAGES))
def test_every_module_of_a_kind_is_a_built_in_or_a_named_support_module(kind: str) -> None:
    package = importlib.import_module(PACKAGES[kind])
    modules = {info.name for info in pkgutil.iter_modules(package.__path__)}
    registered = {module_name(name) for name in BUILTINS[kind]}
    assert modules - registered == SUPPORT[kind], f"{PACKAGES[kind]}: register or name them"
