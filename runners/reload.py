"""Reading the site file again for ``posthorn restart`` (SIGUSR1 to the master).

The same checks as ``posthorn start`` make (every value typed, every runner found,
``[master]`` sane), plus one of its own: the paths must stay, because the master's
lock, pid file and the queues it watches live there.  A file that fails keeps the
running site on the configuration it has.
"""

from __future__ import annotations

from posthorn.config import Config, ConfigError, load_config
from posthorn.runners.slots import RunnerSpec, runner_specs

__all__ = ["reread"]


def reread(current: Config) -> tuple[Config, list[RunnerSpec]]:
    """The site file of ``current`` read and checked again; ConfigError when it is wrong."""
    if current.site_file is None:
        return current, runner_specs(current)
    fresh = load_config(current.site_file)
    specs = runner_specs(fresh)
    for key in current["paths"]:
        if fresh["paths"].raw(key) != current["paths"].raw(key):
            raise ConfigError(
                f"changed from {current['paths'].raw(key)} while running; "
                "stop and start the site to move it",
                file=str(current.site_file),
                section="paths",
                key=key,
            )
    return fresh, specs
