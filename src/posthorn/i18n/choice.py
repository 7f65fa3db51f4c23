"""Whose language a message is in.

A text about the whole list (a digest's masthead, a notice to its owners or
moderators) is in the list's ``preferred_language``.  A text to one person (a
welcome, a confirmation request, a command reply, an autoresponse) is in that
person's own ``preferred_language`` preference: the one set on their membership of
this list, else on their address, else on their user, else the list's.  A code that
is no longer offered falls back to ``[posthorn] default_language``, then English, so
a language removed from the configuration never stops a notice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from posthorn.i18n.catalogues import Translator
from posthorn.i18n.languages import ENGLISH, known_languages

if TYPE_CHECKING:
    from posthorn.config import Config
    from posthorn.interfaces.lists import IMailingList
    from posthorn.site import Site

__all__ = ["list_translator", "recipient_language", "recipient_translator", "translator"]

_KEY = "preferred_language"


def translator(config: Config, code: str) -> Translator:
    """The translator of ``code``, or of the site's default language if it is not offered."""
    known = known_languages(config)
    for candidate in (code, config["posthorn"].get_str("default_language"), ENGLISH):
        language = known.get(candidate)
        if language is not None:
            return Translator(language.code, language.charset, language.catalogue)
    return Translator(ENGLISH, "utf-8")


def list_translator(config: Config, mlist: IMailingList | None) -> Translator:
    """The translator for texts about the whole list (no list: the site's default)."""
    code = mlist.preferred_language if mlist is not None else ""
    return translator(config, code or config["posthorn"].get_str("default_language"))


def recipient_language(site: Site, mlist: IMailingList | None, email: str) -> str:
    """The language ``email`` reads: membership, address, user, then the list's."""
    email = email.lower()
    if mlist is not None:
        member = site.lists.roster(mlist).get_member(email)
        if member is not None:
            chosen = site.lists.member_preferences(member.member_id).get(_KEY)
            if chosen:
                return str(chosen)
    address = site.users.get_address(email)
    if address is not None:
        chosen = site.users.address_preferences(address.email).get(_KEY)
        if not chosen and address.user_id is not None:
            chosen = site.users.user_preferences(address.user_id).get(_KEY)
        if chosen:
            return str(chosen)
    if mlist is not None:
        return mlist.preferred_language
    return site.config["posthorn"].get_str("default_language")


def recipient_translator(site: Site, mlist: IMailingList | None, email: str) -> Translator:
    """The translator for a text to ``email`` alone."""
    return translator(site.config, recipient_language(site, mlist, email))
