"""The REST API (GNU Mailman's 3.1 dialect) over a Site; ``create_app`` builds it."""

from __future__ import annotations

from posthorn.rest.app import create_app

__all__ = ["create_app"]
