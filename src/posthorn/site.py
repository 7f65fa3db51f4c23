"""The site: one configuration and the components it selects, wired once.

This is the composition root.  A runner, the REST API or a CLI command builds one Site
and asks it for the managers; each manager is built on first use by the factory the
``[components]`` section names, and receives the site to take what it needs from.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, cast

from posthorn.config import Config
from posthorn.events import EventBus
from posthorn.registry import Registry

if TYPE_CHECKING:
    from posthorn.database import Databases
    from posthorn.database.changes import StampedCache
    from posthorn.interfaces.domains import IDomainManager
    from posthorn.interfaces.lists import IListManager
    from posthorn.interfaces.messages import IMessageStore
    from posthorn.interfaces.users import IUserManager

__all__ = ["ComponentFactory", "Site"]


class ComponentFactory(Protocol):
    """What a ``[components]`` name resolves to: a class (or callable) with from_site."""

    def from_site(self, site: Site) -> Any: ...


class Site:
    def __init__(
        self,
        config: Config,
        *,
        events: EventBus | None = None,
        databases: Databases | None = None,
    ) -> None:
        self.config = config
        if databases is not None:
            # Engines a forking parent made and left without connections (``preload``).
            databases.after_fork()
            self.__dict__["databases"] = databases
        self.registry = Registry(config)
        # Who hears of changes is configuration, the MTA's tables included ([events]).
        names = config["events"].get_list("subscribers")
        self.events = events or EventBus.from_names(names, site=self)

    @cached_property
    def databases(self) -> Databases:
        from posthorn.database import Databases

        return Databases(self.config)

    @cached_property
    def cache(self) -> StampedCache:
        """Answers read per post, kept until the database changes (``database/changes.py``).

        Only the built-in managers move the change stamp: with another user or list
        manager configured nothing is kept.  The stamp is this host's: on a database
        other hosts may share, an answer is kept a second at most.
        """
        from posthorn.database.changes import MAX_AGE, SHARED_MAX_AGE, StampedCache

        components = self.config["components"]
        ours = all(components.get_str(k) == "database" for k in ("user_manager", "list_manager"))
        one_host = all(url.startswith("sqlite") for url in self.databases.urls().values())
        return StampedCache(
            self.databases.stamp,
            max_entries=65536 if ours else 0,
            max_age=MAX_AGE if one_host else SHARED_MAX_AGE,
        )

    def _component(self, kind: str) -> Any:
        name = self.config["components"].get_str(kind)
        factory = cast(ComponentFactory, self.registry.load(kind, name))
        return factory.from_site(self)

    @cached_property
    def users(self) -> IUserManager:
        return cast("IUserManager", self._component("user_manager"))

    @cached_property
    def domains(self) -> IDomainManager:
        return cast("IDomainManager", self._component("domain_manager"))

    @cached_property
    def lists(self) -> IListManager:
        return cast("IListManager", self._component("list_manager"))

    @cached_property
    def messages(self) -> IMessageStore:
        return cast("IMessageStore", self._component("message_store"))

    def close(self) -> None:
        if "databases" in self.__dict__:
            self.databases.dispose()
