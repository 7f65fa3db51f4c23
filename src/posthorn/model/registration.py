"""Every address gets a user the moment it appears: subscribed, posting, or via REST.

Front ends written for Mailman (Postorius, HyperKitty through django-mailman3) find
people by user: ``users/{email}`` must answer for any address the core has seen, and a
member's ``user`` link must be there.  So wherever an address first turns up, it is
registered with a user of its own unless it already has one.
"""

from __future__ import annotations

import contextlib

from posthorn.errors import AddressInUseError
from posthorn.interfaces.users import IAddress, IUserManager

__all__ = ["address_with_user"]


def address_with_user(users: IUserManager, email: str, display_name: str | None = None) -> IAddress:
    """The registered address (registered first if new), linked to a user (made if none)."""
    address = users.get_or_create_address(email, display_name)
    if address.user_id is not None:
        return address
    # Another process may give it a user meanwhile; either user will do.
    with contextlib.suppress(AddressInUseError):
        users.create_user(address.email, display_name or address.display_name)
    found = users.get_address(address.email)
    return found if found is not None else address
