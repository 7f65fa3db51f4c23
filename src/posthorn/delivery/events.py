"""Events about delivery, for subscribers that keep other systems in sync."""

from __future__ import annotations

from dataclasses import dataclass

from posthorn.events import Event

__all__ = ["DeliveryBounceEvent"]


@dataclass(frozen=True)
class DeliveryBounceEvent(Event):
    """The MTA refused a member's address permanently (5xx at RCPT)."""

    list_id: str
    email: str
    code: int
    response: str
    message_id: str
