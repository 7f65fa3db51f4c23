"""The incoming runner's in-process fixtures (see tests/incoming/fixtures.py)."""

from tests.incoming.fixtures import drain, mlist, post, runner, take

__all__ = ["drain", "mlist", "post", "runner", "take"]
