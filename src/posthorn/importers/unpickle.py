"""Reading pickles from an old site without ever running code from them.

Mailman keeps data as pickles: Mailman 2.1 a list's whole ``config.pck``, Mailman 3
some list settings and held messages' metadata and the messages themselves.  A pickle
can name any importable callable and call it, so a crafted one runs code on load.
Here every name a pickle refers to must be one the caller allows, mapped to a
harmless stand-in of the caller's choosing; anything else stops the load with
``UnsafePickleError`` before it is called.  Plain data (numbers, strings, bytes,
lists, tuples, dicts, booleans, None) needs no names at all.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping
from typing import Any

from posthorn.errors import PosthornError

__all__ = ["UnreadablePickleError", "UnsafePickleError", "safe_loads"]


class UnreadablePickleError(PosthornError):
    """Not a pickle, or a damaged one."""


class UnsafePickleError(UnreadablePickleError):
    """A pickle that names something other than plain data: refused, never run."""


class _Restricted(pickle.Unpickler):
    def __init__(self, data: bytes, allowed: Mapping[tuple[str, str], Any], encoding: str) -> None:
        super().__init__(io.BytesIO(data), encoding=encoding)
        self._allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load {module}.{name}: the pickle names code, not data"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refusing a pickle with persistent references")


def safe_loads(
    data: bytes,
    *,
    allowed: Mapping[tuple[str, str], Any] | None = None,
    encoding: str = "bytes",
) -> Any:
    """Unpickle ``data`` using only ``allowed`` names; Python 2 strings as ``encoding``.

    The default ``bytes`` keeps Python 2 byte strings as bytes, for the caller to
    decode with the right character set.
    """
    try:
        return _Restricted(data, allowed or {}, encoding).load()
    except UnsafePickleError:
        raise
    except Exception as error:  # a damaged pickle fails in many ways; all say so
        raise UnreadablePickleError(f"not a readable pickle: {error}") from None
