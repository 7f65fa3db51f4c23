"""The built-in chains, one per module; the registry's ``chain`` table names them.

A chain is built with the Site (``ChainClass(site)``), once per incoming runner, and
acts on a post through the ``ChainContext`` it is given (the runner's queues and log).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["Chain"]


class Chain:
    """Base for the built-in chains: keeps the site."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self, site: Site) -> None:
        self.site = site
