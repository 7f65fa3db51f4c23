"""The message class of the posts the queues parse: header parameters parsed once.

Every question about a Content-Type (its charset, its boundary, any parameter), and
every ``set_param``, parses the whole field value into its parameters again; deciding
and decorating a post asks some ten times, on the same few values for every post of
a list.  ``PostMessage`` keeps the parsed parameters of each distinct value it has
seen, for the process; the answers are those of ``email.message.Message``, which
parses the value alone (``_get_params_preserve`` reads nothing else).
"""

from __future__ import annotations

from email.message import Message
from typing import Any

__all__ = ["PostMessage"]

# Parsed parameters by field value; cleared whole when full, so that a stream of
# distinct values (a boundary per post) cannot make it grow.
_MAX_ENTRIES = 4096
_params: dict[str, tuple[Any, ...]] = {}
_MISSING = object()


class PostMessage(Message):
    """``email.message.Message``, remembering parsed header parameters."""

    def _get_params_preserve(self, failobj: Any, header: str) -> Any:
        value = self.get(header, _MISSING)
        if type(value) is not str:
            # Missing, or a Header object (a value with undecodable bytes): as ever.
            return super()._get_params_preserve(failobj, header)  # type: ignore[misc]
        found = _params.get(value)
        if found is None:
            if len(_params) >= _MAX_ENTRIES:
                _params.clear()
            parsed = super()._get_params_preserve(failobj, header)  # type: ignore[misc]
            found = _params[value] = tuple(parsed)
        # A list of its own for each caller, as the base class gives.
        return list(found)
