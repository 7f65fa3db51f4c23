"""The built-in chains, one per module named after the chain; the registry's ``chain``
table names them.

A chain is built with the Site (``ChainClass(site)``), once per incoming runner, and
acts on a post through the ``ChainContext`` it is given (the runner's queues and log).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from posthorn.interfaces.rules import IChain
    from posthorn.site import Site

__all__ = ["Chain", "load_chain"]


class Chain:
    """Base for the built-in chains: keeps the site."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self, site: Site) -> None:
        self.site = site


def load_chain(site: Site, name: str) -> IChain:
    """A chain by registry name, built with the site."""
    factory = site.registry.load("chain", name)
    chain: IChain = factory(site)
    return chain
