"""Mailman 3's waiting requests and list templates, from its database and ``var/``.

Pending confirmations are rows of ``pended`` with their key/value pairs (values as
JSON).  A held message is a ``_request`` row whose data is a pending of type ``data``
(values that are not strings pickled, under a ``_pck_`` key) and whose message is a
pickled ``email.message.Message`` in ``var/messages``, found through the ``message``
table.  Templates are ``template`` rows (a URI per name and list) and files under
``var/templates/lists/LIST-ID/LANG/``; the list's header and footer become Posthorn's
``header_text`` and ``footer_text``.
"""

from __future__ import annotations

import contextlib
import email.charset
import email.errors
import email.header
import email.message
import json
from collections.abc import Mapping
from datetime import date, datetime
from email import policy
from pathlib import Path
from typing import Any

from posthorn.importers.description import HeldData, PendingData, TemplateData
from posthorn.importers.mailman3_db import MailmanDatabase, as_utc
from posthorn.importers.mailman3_lists import template_text
from posthorn.importers.unpickle import UnreadablePickleError, safe_loads
from posthorn.model.base import utc_now

__all__ = ["held_messages", "pendings", "templates"]

_HELD_MESSAGE = 1  # RequestType.held_message
_WORKFLOWS = ("subscription", "unsubscription")
# What a pickled message may name: the standard library's email classes; Mailman's
# own Message subclasses become the standard Message (they only add methods).
_MESSAGE_NAMES: dict[tuple[str, str], Any] = {
    ("mailman.email.message", "Message"): email.message.Message,
    ("mailman.email.message", "MultipartDigestMessage"): email.message.Message,
    ("mailman.email.message", "UserNotification"): email.message.Message,
    ("mailman.email.message", "OwnerNotification"): email.message.Message,
    ("email.message", "Message"): email.message.Message,
    ("email.message", "EmailMessage"): email.message.EmailMessage,
    ("email._policybase", "Compat32"): policy.Compat32,
    ("email.policy", "EmailPolicy"): policy.EmailPolicy,
    ("email.charset", "Charset"): email.charset.Charset,
    ("email.header", "Header"): email.header.Header,
    **{
        ("email.errors", name): getattr(email.errors, name)
        for name in dir(email.errors)
        if name.endswith("Defect")
    },
}
_DATA_NAMES = {("datetime", "datetime"): datetime, ("datetime", "date"): date}
# The header and footer templates and the settings they become.
_TEXTS = {"list:member:regular:header": "header_text", "list:member:regular:footer": "footer_text"}


def _pended(db: MailmanDatabase) -> dict[int, dict[str, Any]]:
    """Each pending's key/value pairs by its id, values decoded from JSON."""
    found: dict[int, dict[str, Any]] = {}
    for row in db.rows("pendedkeyvalue"):
        value = row["value"]
        if row["key"] != "type":
            with contextlib.suppress(TypeError, ValueError):
                value = json.loads(value)
        found.setdefault(row["pended_id"], {})[row["key"]] = value
    return found


def pendings(db: MailmanDatabase, list_id: str) -> list[PendingData]:
    """Live subscription and unsubscription requests of one list, tokens kept."""
    values = _pended(db)
    found: list[PendingData] = []
    now = utc_now()
    for row in db.rows("pended"):
        data = values.get(row["id"], {})
        expires = as_utc(row["expiration_date"])
        if data.get("type") not in _WORKFLOWS or data.get("list_id") != list_id:
            continue
        if expires is None or expires <= now:
            continue
        when = as_utc(data.get("when")) or now
        request = {
            "email": str(data.get("email", "")).lower(),
            "display_name": data.get("display_name") or None,
            "role": "member",
            "delivery_mode": "regular",
            "send_welcome": None,
            "pre_approved": False,
            "token_owner": data.get("token_owner") or "subscriber",
        }
        found.append(PendingData(row["token"], str(data["type"]), request, when, expires))
    return found


def _json_safe(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _msgdata(data: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in data.items():
        if key.startswith("_mod_") or key == "type":
            continue
        if key.startswith("_pck_"):
            try:
                raw = str(value).encode("raw-unicode-escape")
                value = safe_loads(raw, allowed=_DATA_NAMES, encoding="utf-8")
            except UnreadablePickleError:
                continue
            key = key[5:]
        found[key] = _json_safe(value)
    return found


def _message(path: Path) -> bytes:
    loaded = safe_loads(path.read_bytes(), allowed=_MESSAGE_NAMES, encoding="utf-8")
    if not isinstance(loaded, email.message.Message):
        raise UnreadablePickleError(f"{path} does not hold a message")
    return loaded.as_bytes(policy=policy.compat32)


def held_messages(
    db: MailmanDatabase, key: int, list_id: str, var_dir: Path | None
) -> tuple[list[HeldData], list[str]]:
    """The list's held posts, and a sentence for each that could not be read."""
    values = _pended(db)
    tokens = {row["token"]: row["id"] for row in db.rows("pended")}
    paths = {row["message_id"]: row["path"] for row in db.rows("message")}
    found: list[HeldData] = []
    problems: list[str] = []
    for row in db.rows("_request"):
        if row["mailing_list_id"] != key or row["request_type"] != _HELD_MESSAGE:
            continue
        data = values.get(tokens.get(row["data_hash"], -1), {})
        if var_dir is None:
            problems.append(f"{row['key']}: give --var to read held messages")
            continue
        relative = paths.get(row["key"])
        try:
            if relative is None:
                raise FileNotFoundError(row["key"])
            raw = _message(var_dir / "messages" / relative)
        except (OSError, UnreadablePickleError) as error:
            problems.append(f"{row['key']}: message not readable: {error}")
            continue
        held_on = as_utc(data.get("_mod_hold_date")) or utc_now()
        found.append(
            HeldData(
                raw=raw,
                sender=str(data.get("_mod_sender", "")),
                subject=str(data.get("_mod_subject", "")),
                reason=str(data.get("_mod_reason", "")),
                held_on=held_on,
                msgdata=_msgdata(data),
            )
        )
    return found, problems


def templates(
    db: MailmanDatabase, list_id: str, var_dir: Path | None
) -> tuple[list[TemplateData], dict[str, str]]:
    """The list's template URIs, and header and footer texts found in ``var/``."""
    found = [
        TemplateData(row["name"], row["uri"], row.get("username"), row.get("password"))
        for row in db.rows("template")
        if row["context"] == list_id and row["name"] not in _TEXTS
    ]
    texts: dict[str, str] = {}
    folder = var_dir / "templates" / "lists" / list_id if var_dir is not None else None
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*/*.txt")):
            name = path.name[: -len(".txt")]
            if name in _TEXTS:
                texts[_TEXTS[name]] = template_text(path.read_text(encoding="utf-8"))
            else:
                text = path.read_text(encoding="utf-8")
                found.append(TemplateData(name, "", text=text, language=path.parent.name))
    return found, texts
