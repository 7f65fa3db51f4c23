"""Named pipelines: which handlers a message goes through, in which order.

The order is data: ``[pipeline.NAME] handlers`` in the configuration.  A list picks
its posting pipeline by name (``posting_pipeline``); the names GNU Mailman lists carry
(``default-posting-pipeline``, ``default-owner-pipeline``) are aliases of ours, so
lists created by Mailman-speaking front ends work unchanged.  Every name is checked
against the registry when the pipeline runner starts, so a typo is a configuration
error at start-up, not a shunted message at the first post.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.config import Config, ConfigError
from posthorn.interfaces.handlers import HandlerContext, IHandler
from posthorn.interfaces.lists import IMailingList
from posthorn.registry import Registry, RegistryError

__all__ = ["ALIASES", "Pipeline", "PipelineSet", "pipeline_name"]

ALIASES = {
    "default-posting-pipeline": "posting",
    "default-owner-pipeline": "owner-posting",
}


def pipeline_name(name: str) -> str:
    """The configured pipeline a list's setting (or an alias) names."""
    return ALIASES.get(name, name)


class Pipeline:
    """An ordered list of built handlers, run one after the other."""

    def __init__(self, name: str, handlers: list[IHandler]) -> None:
        self.name = name
        self.handlers = handlers

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        for handler in self.handlers:
            handler.process(mlist, msg, msgdata)


class PipelineSet:
    """Every configured pipeline, built once with one context."""

    def __init__(self, config: Config, registry: Registry, context: HandlerContext) -> None:
        self._pipelines: dict[str, Pipeline] = {}
        built: dict[str, IHandler] = {}
        for name in config.named("pipeline"):
            section = f"pipeline.{name}"
            handlers = []
            for handler_name in config[section].get_list("handlers"):
                if handler_name not in built:
                    try:
                        factory = registry.load("handler", handler_name)
                    except RegistryError as error:
                        raise ConfigError(f"[{section}] handlers: {error}") from None
                    built[handler_name] = factory(context)
                handlers.append(built[handler_name])
            self._pipelines[name] = Pipeline(name, handlers)

    def names(self) -> list[str]:
        return sorted(self._pipelines)

    def get(self, name: str) -> Pipeline:
        """The pipeline ``name`` (or alias); KeyError when none is configured."""
        return self._pipelines[pipeline_name(name)]
