"""Strings written in code, in the reader's language: gettext catalogues and ``_``.

A string meant for a person is written ``_("... $name ...")``: ``_`` only marks it,
so the extraction tool (``make catalogues``) finds it and it keeps its English form
until a ``Translator`` is asked for it in a language.  Placeholders are ``$name``, as
in the templates, so one syntax serves both; a translation must use the same ones
(``tests/i18n`` checks every shipped catalogue).  A string missing from a catalogue
stays English.

Catalogues are compiled gettext files, ``posthorn/locale/CODE/LC_MESSAGES/posthorn.mo``
in the package (built from the ``.po`` beside it and committed, so an installed
package needs no build step), or the file a ``[language.CODE] catalogue`` names.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from io import BytesIO
from pathlib import Path
from string import Template

__all__ = ["DOMAIN", "Translator", "_", "catalogue", "placeholders"]

DOMAIN = "posthorn"

_PLACEHOLDER = re.compile(r"\$(?:([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\})", re.IGNORECASE)


def _(message: str) -> str:
    """Mark ``message`` for translation; it is translated where it is sent."""
    return message


def placeholders(text: str) -> set[str]:
    """The ``$name`` / ``${name}`` placeholders of ``text``."""
    return {a or b for a, b in _PLACEHOLDER.findall(text.replace("$$", ""))}


@lru_cache(maxsize=64)
def catalogue(code: str, path: Path | None = None) -> gettext.NullTranslations:
    """The catalogue of ``code`` (``path``, else the shipped one); empty if there is none."""
    if path is not None:
        data = path.read_bytes() if path.is_file() else b""
    else:
        found = resources.files("posthorn").joinpath("locale", code, "LC_MESSAGES", f"{DOMAIN}.mo")
        data = found.read_bytes() if found.is_file() else b""
    if not data:
        return gettext.NullTranslations()
    return gettext.GNUTranslations(BytesIO(data))


@dataclass(frozen=True)
class Translator:
    """Strings in one language, and the charset messages in it are encoded with."""

    language: str
    charset: str = "utf-8"
    catalogue_path: Path | None = field(default=None, compare=False)

    def __call__(self, message: str, /, **values: object) -> str:
        """``message`` in this language with its placeholders filled from ``values``."""
        text = catalogue(self.language, self.catalogue_path).gettext(message) if message else ""
        return Template(text).safe_substitute(values)
