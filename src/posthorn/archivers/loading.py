"""Build the site's enabled archivers, and pick those a given list feeds.

An archiver is known by ``[archiver.NAME] class`` (a dotted path), else by the
built-in or entry point (group ``posthorn.archivers``) of that NAME; ``enable: yes``
switches it on for the site.  Each list can then switch any of them off
(``disabled_archivers``), and a list whose ``archive_policy`` is ``never`` feeds none.
"""

from __future__ import annotations

import logging
from typing import cast

from posthorn.interfaces.archivers import IArchiver
from posthorn.interfaces.lists import IMailingList
from posthorn.registry import import_dotted
from posthorn.site import Site

__all__ = ["configured_archivers", "enabled_archivers", "for_list", "load_archiver"]

log = logging.getLogger("posthorn.archivers")


def configured_archivers(site: Site) -> dict[str, bool]:
    """Every ``[archiver.NAME]`` section, NAME to whether it is enabled."""
    config = site.config
    return {
        name: config[f"archiver.{name}"].get_bool("enable")
        for name in sorted(config.named("archiver"))
        if name != "*"
    }


def load_archiver(site: Site, name: str) -> IArchiver:
    """Build archiver NAME as ``Cls(site, name)``; errors name what is wrong."""
    path = site.config[f"archiver.{name}"].get_str("class")
    cls = import_dotted(path) if path else site.registry.load("archiver", name)
    return cast(IArchiver, cls(site, name))


def enabled_archivers(site: Site) -> dict[str, IArchiver]:
    """The site-enabled archivers that could be built; a broken one is logged, skipped."""
    found: dict[str, IArchiver] = {}
    for name, enabled in configured_archivers(site).items():
        if not enabled:
            continue
        try:
            found[name] = load_archiver(site, name)
        except Exception:
            log.exception("archiver %s cannot be loaded; it is left out", name)
    return found


def for_list(archivers: dict[str, IArchiver], mlist: IMailingList) -> dict[str, IArchiver]:
    """The archivers this list feeds, by its policy and its per-list switches."""
    if mlist.archive_policy == "never":
        return {}
    off = set(mlist.disabled_archivers)
    return {name: archiver for name, archiver in archivers.items() if name not in off}
