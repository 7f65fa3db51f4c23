"""Notice templates: the text of every message Posthorn writes to people.

A template is a text file ``NAME.txt`` whose first line is ``Subject: ...`` and whose
body follows a blank line.  Placeholders are ``$name`` (``string.Template``); an unknown
placeholder is left as it is (``safe_substitute``), so a site's template with a typo
still goes out readable rather than failing the command that sent it.

Look-up order, first found wins, so a site changes one notice without copying all:

1. ``[paths] template_dir``/lists/LIST-ID/LANG/NAME.txt (one list);
2. ``[paths] template_dir``/LANG/NAME.txt (the whole site);
3. the shipped ``posthorn/templates/LANG/NAME.txt`` (package data, so an installed
   package and a checkout find the same files);

each tried in the recipient's language (when the notice is to one person: see
``posthorn.i18n.choice``), then the list's ``preferred_language``, then
``[posthorn] default_language``, then ``en``.  Before all of these, a front end's
text stored by URI for the list, its domain or the site (``remote_templates.py``)
gives the body of the notices it names.
Placeholders also answer to Mailman's names (``$listname``, ``$request_email``,
``$owner_email``, ``$domain_name``, ``$user_email``), so such texts fill in.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from posthorn.errors import PosthornError

if TYPE_CHECKING:
    from posthorn.config import Config
    from posthorn.interfaces.lists import IMailingList
    from posthorn.remote_templates import RemoteTemplates

__all__ = ["NoSuchTemplateError", "list_variables", "load_template", "render"]


class NoSuchTemplateError(PosthornError):
    """No template of that name in any language or location."""


def _languages(config: Config, mlist: IMailingList | None, language: str | None) -> list[str]:
    wanted = [language or "", mlist.preferred_language if mlist is not None else ""]
    wanted += [config["posthorn"].get_str("default_language"), "en"]
    return list(dict.fromkeys(lang for lang in wanted if lang))


def _site_file(config: Config, relative: str) -> str | None:
    root = config["paths"].get_path("template_dir")
    if root is None:
        return None
    path = Path(root) / relative
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _shipped_file(language: str, name: str) -> str | None:
    found = resources.files("posthorn").joinpath("templates", language, f"{name}.txt")
    return found.read_text(encoding="utf-8") if found.is_file() else None


def load_template(
    config: Config, name: str, mlist: IMailingList | None = None, language: str | None = None
) -> str:
    """The raw text of template ``name`` for ``mlist`` (see the module for the order).

    ``language`` (the recipient's) is tried before the list's.
    """
    if "/" in name or name.startswith("."):
        raise NoSuchTemplateError(f"not a template name: {name!r}")
    for code in _languages(config, mlist, language):
        candidates = [f"{code}/{name}.txt"]
        if mlist is not None:
            candidates.insert(0, f"lists/{mlist.list_id}/{code}/{name}.txt")
        for relative in candidates:
            text = _site_file(config, relative)
            if text is not None:
                return text
        text = _shipped_file(code, name)
        if text is not None:
            return text
    raise NoSuchTemplateError(f"no template named {name!r}")


def list_variables(config: Config, mlist: IMailingList) -> dict[str, str]:
    """What every notice about a list may mention, by placeholder name."""
    return {
        "list_name": mlist.list_name,
        "display_name": mlist.display_name or mlist.list_name,
        "fqdn_listname": mlist.fqdn_listname,
        "list_id": mlist.list_id,
        "mail_host": mlist.mail_host,
        "description": mlist.description,
        "info": mlist.info,
        "posting_address": mlist.posting_address,
        "request_address": mlist.request_address,
        "owner_address": mlist.owner_address,
        "join_address": mlist.join_address,
        "leave_address": mlist.leave_address,
        "language": mlist.preferred_language,
        "site_name": config["posthorn"].get_str("site_name"),
        # Mailman's names for the same, as front ends' templates use them.
        "listname": mlist.fqdn_listname,
        "request_email": mlist.request_address,
        "owner_email": mlist.owner_address,
        "domain_name": mlist.mail_host,
    }


def render(
    config: Config,
    name: str,
    mlist: IMailingList | None = None,
    *,
    remote: RemoteTemplates | None = None,
    language: str | None = None,
    **values: object,
) -> tuple[str, str]:
    """(subject, body) of template ``name`` with the list's and ``values``' placeholders.

    With ``remote``, a front end's text for the notice, if it has one, is the body.
    ``language`` is the recipient's, tried before the list's.
    """
    mapping: dict[str, object] = {}
    if mlist is not None:
        mapping.update(list_variables(config, mlist))
    if "address" in values:
        mapping["user_email"] = values["address"]
    mapping.update(values)
    text = Template(load_template(config, name, mlist, language)).safe_substitute(mapping)
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        subject, body = first.split(":", 1)[1].strip(), rest.lstrip("\n")
    else:
        subject, body = "", text
    fetched = remote.body(name, mlist) if remote is not None else None
    if fetched is not None:
        body = Template(fetched).safe_substitute(mapping)
    return subject, body if body.endswith("\n") else body + "\n"
