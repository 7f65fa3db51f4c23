"""Settling a pending request by token, whatever its type.

The CLI, the REST API and the ``confirm`` email command hold only a token; the
pending's type says which workflow continues it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from posthorn.interfaces.lists import IMailingList, IPending
from posthorn.workflows import Enqueue, ModeratorAction, Outcome
from posthorn.workflows.subscription import SubscriptionWorkflow
from posthorn.workflows.unsubscription import UnsubscriptionWorkflow

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["REQUEST_TYPES", "confirm_request", "list_requests", "moderate_request"]

REQUEST_TYPES = ("subscription", "unsubscription")


def _workflow(
    site: Site, mlist: IMailingList, pending: IPending | None, enqueue: Enqueue | None
) -> SubscriptionWorkflow | UnsubscriptionWorkflow:
    if pending is not None and pending.type == "unsubscription":
        return UnsubscriptionWorkflow(site, mlist, enqueue)
    return SubscriptionWorkflow(site, mlist, enqueue)


def list_requests(site: Site, mlist: IMailingList) -> list[IPending]:
    """Every live request of the list, oldest first within each type."""
    return [
        p for kind in REQUEST_TYPES for p in site.lists.pendings(type=kind, list_id=mlist.list_id)
    ]


def confirm_request(
    site: Site, mlist: IMailingList, token: str, enqueue: Enqueue | None = None
) -> Outcome:
    """The requester's confirmation of ``token`` (a subscription or unsubscription)."""
    pending = site.lists.get_pending(token)
    return _workflow(site, mlist, pending, enqueue).confirm(token)


def moderate_request(
    site: Site,
    mlist: IMailingList,
    token: str,
    action: ModeratorAction,
    reason: str | None = None,
    enqueue: Enqueue | None = None,
) -> Outcome:
    """A moderator's decision on ``token``."""
    pending = site.lists.get_pending(token)
    return _workflow(site, mlist, pending, enqueue).moderate(token, action, reason)
