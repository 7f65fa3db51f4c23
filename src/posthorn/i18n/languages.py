"""The language registry: the ``[language.CODE]`` sections of the configuration.

A language is offered when its section exists and says ``enable: yes``.  Its
``charset`` is the one notices in that language are encoded with (a text that does
not fit it goes out in UTF-8 instead, so no character is ever lost); its
``catalogue`` names a gettext ``.mo`` file for a site's own language (empty: the one
shipped in ``posthorn/locale/CODE/LC_MESSAGES/posthorn.mo``, or none, when
only templates are translated).  English is always offered: it is the fallback of
every text.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posthorn.errors import InvalidSettingError

if TYPE_CHECKING:
    from posthorn.config import Config

__all__ = [
    "ENGLISH",
    "Language",
    "check_language",
    "fitting_charset",
    "header_value",
    "known_languages",
    "text_part",
]

ENGLISH = "en"


@dataclass(frozen=True)
class Language:
    """One language a site offers."""

    code: str
    description: str
    charset: str
    catalogue: Path | None = None


def known_languages(config: Config) -> dict[str, Language]:
    """Every enabled language by code, English always among them."""
    found: dict[str, Language] = {}
    for code in config.named("language"):
        section = config[f"language.{code}"]
        if not section.get_bool("enable"):
            continue
        found[code] = Language(
            code,
            section.get_str("description") or code,
            section.get_str("charset") or "utf-8",
            section.get_path("catalogue"),
        )
    found.setdefault(ENGLISH, Language(ENGLISH, "English (USA)", "us-ascii"))
    return dict(sorted(found.items()))


def check_language(config: Config, name: str, value: Any) -> str:
    """``value`` if it is the code of an offered language; otherwise a specific error."""
    known = known_languages(config)
    if not isinstance(value, str) or value not in known:
        raise InvalidSettingError(
            name, f"{value!r} is not a language of this site (known: {', '.join(known)})"
        )
    return value


def fitting_charset(text: str, charset: str) -> str:
    """``charset`` if ``text`` can be written in it, else UTF-8 (which fits everything)."""
    try:
        text.encode(charset)
    except (UnicodeEncodeError, LookupError):
        return "utf-8"
    return charset


def text_part(text: str, charset: str) -> MIMEText:
    """A text/plain part in ``charset``, or in UTF-8 when the text does not fit it."""
    return MIMEText(text, "plain", fitting_charset(text, charset))


def header_value(text: str, charset: str) -> str:
    """A header's text: as it is when ASCII, else encoded words in the language's charset."""
    if text.isascii():
        return text
    return Header(text, fitting_charset(text, charset)).encode()
