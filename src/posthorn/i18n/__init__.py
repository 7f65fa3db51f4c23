"""Languages: which language a message Posthorn writes is in, its words and its charset.

Three small parts, one idea each:

- ``languages``: the registry, one ``[language.CODE]`` section per language a site
  offers (description, charset, catalogue); refuses unknown codes with a clear error;
- ``catalogues``: the gettext catalogues for strings written in code; ``_`` marks a
  string for extraction, ``Translator`` turns it into the recipient's language and
  fills its ``$placeholders``;
- ``choice``: whose language a message is in — the list's for list-wide texts, the
  recipient's own preference (member, address, user, then the list) for texts to one
  person — with English as the last fallback.
"""

from __future__ import annotations

from posthorn.i18n.catalogues import Translator, _, placeholders
from posthorn.i18n.choice import (
    list_translator,
    recipient_language,
    recipient_translator,
    translator,
)
from posthorn.i18n.languages import (
    Language,
    check_language,
    header_value,
    known_languages,
    text_part,
)

__all__ = [
    "Language",
    "Translator",
    "_",
    "check_language",
    "header_value",
    "known_languages",
    "list_translator",
    "placeholders",
    "recipient_language",
    "recipient_translator",
    "text_part",
    "translator",
]
