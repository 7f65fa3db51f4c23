"""Events: the core says what changed; subscribers decide what to do about it.

The core never calls an outside system directly.  A site keeps another system in step
by subscribing a callable to these events, named in ``[events] subscribers`` or by an
entry point in the group ``posthorn.events``.  Events carry plain values (list-ids,
addresses, ids) so a subscriber needs no database access to use them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

__all__ = [
    "AddressVerifiedEvent",
    "ConfigurationChangeEvent",
    "ConfirmationEvent",
    "Event",
    "EventBus",
    "ListCreatedEvent",
    "ListDeletedEvent",
    "PasswordChangeEvent",
    "SubscriptionEvent",
    "UnsubscriptionEvent",
]

log = logging.getLogger("posthorn.events")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Event:
    when: datetime = field(default_factory=_now, kw_only=True)


@dataclass(frozen=True)
class ListCreatedEvent(Event):
    list_id: str
    fqdn_listname: str


@dataclass(frozen=True)
class ListDeletedEvent(Event):
    list_id: str
    fqdn_listname: str


@dataclass(frozen=True)
class SubscriptionEvent(Event):
    list_id: str
    email: str
    role: str
    member_id: str


@dataclass(frozen=True)
class UnsubscriptionEvent(Event):
    list_id: str
    email: str
    role: str
    member_id: str


@dataclass(frozen=True)
class ConfirmationEvent(Event):
    """A subscriber confirmed a pending (un)subscription by token.

    ``request_type`` is ``subscription`` or ``unsubscription``; the membership change
    itself, if any, fires its own event.
    """

    list_id: str
    email: str
    request_type: str
    token: str


@dataclass(frozen=True)
class AddressVerifiedEvent(Event):
    email: str


@dataclass(frozen=True)
class PasswordChangeEvent(Event):
    user_id: str


@dataclass(frozen=True)
class ConfigurationChangeEvent(Event):
    list_id: str
    changes: dict[str, tuple[object, object]]


Subscriber = Callable[[Event], None]


def _bound(subscriber: Any, site: Any) -> Subscriber:
    from_site = getattr(subscriber, "from_site", None)
    if from_site is None:
        return cast(Subscriber, subscriber)
    if site is None:
        raise ValueError(f"event subscriber {subscriber!r} needs a site")
    return cast(Subscriber, from_site(site))


class EventBus:
    """Delivers each event to every subscriber; one failing subscriber hurts no other."""

    def __init__(self, subscribers: Iterable[Subscriber] = ()) -> None:
        self._subscribers: list[Subscriber] = list(subscribers)

    @classmethod
    def from_names(cls, names: Iterable[str], site: Any = None) -> EventBus:
        """The subscribers named (dotted paths) and those of the entry points.

        A subscriber that needs the site (to write files, to read lists) is named by a
        class with ``from_site(site)``, which gives the callable to subscribe.
        """
        # Imported here: the registry imports the config, which must not import events.
        from posthorn.registry import import_dotted, plugin_entry_points

        found = [import_dotted(name) for name in names]
        found.extend(ep.load() for ep in plugin_entry_points("posthorn.events"))
        return cls(_bound(subscriber, site) for subscriber in found)

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.remove(subscriber)

    def notify(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                # The change has happened; a subscriber's failure must not undo or
                # hide it, so it is logged for the administrator instead of raised.
                log.exception("event subscriber %r failed on %r", subscriber, event)
