"""Bans, header matches and template overrides: compared and changed through their managers.

These are few (tens per list, not thousands), so each goes through the same manager
the REST API uses, with its checks: a ban that is neither an address nor a valid
``^pattern``, or a header match Posthorn refuses, is reported and skipped.  A template
file of the old site is copied into Posthorn's ``[paths] template_dir`` under the same
``lists/LIST-ID/LANG/NAME.txt`` path, and the list's template URI points at the copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from posthorn.errors import PosthornError
from posthorn.importers.description import ListData, SiteData, TemplateData
from posthorn.importers.tally import Tally
from posthorn.model.bans import DatabaseBanManager, normalize_ban
from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.model.template_uris import TEMPLATE_NAMES, DatabaseTemplateUris
from posthorn.templates import NoSuchTemplateError, load_template

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["apply_bans", "apply_header_matches", "apply_templates"]

# Mailman's notices that Posthorn sends under its own names: a list's text for one of
# these also becomes the list's override of Posthorn's notice (subject kept).
_NOTICES = {"list:user:notice:welcome": "welcome", "list:user:notice:goodbye": "goodbye"}


def apply_bans(site: Site, data: SiteData, tally: Tally) -> None:
    bans = DatabaseBanManager.from_site(site)
    existing: dict[str | None, set[str]] = {}
    for ban in data.bans:
        where = ban.list_id or "the site"
        try:
            email = normalize_ban(ban.email)
        except PosthornError as error:
            tally.problems.append(f"ban {ban.email} on {where}: {error}")
            continue
        if ban.list_id not in existing:
            existing[ban.list_id] = {found.email for found in bans.bans(ban.list_id)}
        if email in existing[ban.list_id]:
            tally.unchanged("bans")
            continue
        tally.created("bans", f"{email} on {where}")
        existing[ban.list_id].add(email)
        if not tally.dry_run:
            bans.ban(email, ban.list_id)


def apply_header_matches(site: Site, mlist: ListData, tally: Tally) -> None:
    if not mlist.header_matches:
        return
    matches = DatabaseHeaderMatches.from_site(site)
    current = {(m.header, m.pattern): m for m in matches.of(mlist.list_id)}
    for match in mlist.header_matches:
        what = f"{match.header}: {match.pattern} on {mlist.fqdn_listname}"
        found = current.get((match.header.strip().lower(), match.pattern))
        try:
            if found is None:
                tally.created("header matches", what)
                if not tally.dry_run:
                    matches.append(
                        mlist.list_id, match.header, match.pattern, match.action, match.tag
                    )
            elif (found.chain, found.tag) != (match.action, match.tag):
                tally.changed("header matches", what, "action, tag")
                if not tally.dry_run:
                    matches.change(mlist.list_id, found.position, chain=match.action, tag=match.tag)
            else:
                tally.unchanged("header matches")
        except PosthornError as error:
            tally.problems.append(f"header match {what}: {error}")


def apply_templates(site: Site, mlist: ListData, tally: Tally) -> None:
    if not mlist.templates:
        return
    uris = DatabaseTemplateUris.from_site(site)
    root = site.config["paths"].get_path("template_dir")
    for template in mlist.templates:
        what = f"{template.name} of {mlist.fqdn_listname}"
        if template.name not in TEMPLATE_NAMES:
            tally.problems.append(f"template {what}: Posthorn has no such template")
            continue
        uri = template.uri
        if template.text is not None:
            if root is None:
                tally.problems.append(f"template {what}: no [paths] template_dir to copy to")
                continue
            path = Path(root) / "lists" / mlist.list_id / template.language
            path = path / f"{template.name}.txt"
            uri = path.resolve().as_uri()
            _copy(path, template.text, tally)
            if template.name in _NOTICES:
                _notice(site, mlist, template, Path(root), tally)
        current = uris.get(template.name, mlist.list_id)
        wanted = (uri, template.username, template.password)
        if current is not None and (current.uri, current.username, current.password) == wanted:
            tally.unchanged("templates")
            continue
        if current is None:
            tally.created("templates", what)
        else:
            tally.changed("templates", what, "uri")
        if not tally.dry_run:
            uris.set(template.name, mlist.list_id, *wanted)


def _copy(path: Path, text: str, tally: Tally) -> None:
    """Write a template's text to Posthorn's copy, if it differs."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    if path.is_file():
        tally.changed("templates", str(path), "text")
    if not tally.dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _notice(site: Site, mlist: ListData, template: TemplateData, root: Path, tally: Tally) -> None:
    """The list's text for a notice Posthorn sends, under Posthorn's name for it.

    Mailman's template is the body only; Posthorn's starts with its subject line, which
    is taken from Posthorn's own notice.  Posthorn knows Mailman's placeholder names.
    """
    assert template.text is not None
    name = _NOTICES[template.name]
    try:
        shipped = load_template(site.config, name)
    except NoSuchTemplateError:
        return
    subject = (
        shipped.splitlines()[0] if shipped.startswith("Subject:") else "Subject: $display_name"
    )
    path = root / "lists" / mlist.list_id / template.language / f"{name}.txt"
    if not path.exists():
        tally.created("templates", f"{name} notice of {mlist.fqdn_listname}")
    _copy(path, f"{subject}\n\n{template.text}", tally)
