"""``hyperkitty``: post each message to HyperKitty's archive API.

HyperKitty takes a message at ``BASE/api/mailman/archive``: a ``multipart/form-data``
POST with the field ``mlist`` (the list's posting address) and the file ``message``
(the raw bytes), authorised by the header ``Authorization: Token KEY`` where KEY is
HyperKitty's ``MAILMAN_ARCHIVER_KEY`` (and the caller's address must be in its
``MAILMAN_ARCHIVER_FROM``).  It answers 200 with ``{"url": ...}``, also for a message
it holds already, so offering a message again after a timeout stores it once.

HyperKitty serves a list at ``BASE/list/ADDRESS/`` and a message at
``BASE/list/ADDRESS/message/HASH/``, HASH being the Message-ID-Hash both sides compute
the same way; that is what ``list_url`` and ``permalink`` give, so ``Archived-At`` in
the members' copies opens the message.  ``api_url`` reaches the API by another route
than the public ``base_url`` (say, HyperKitty's own port on the same host).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from email.message import Message
from urllib.parse import quote

from posthorn.archivers.base import Archiver, hash_of
from posthorn.interfaces.lists import IMailingList
from posthorn.queues.flatten import message_to_bytes

__all__ = ["HyperKittyArchiver", "HyperKittyRefused", "multipart_form"]

API_PATH = "/api/mailman/archive"


class HyperKittyRefused(RuntimeError):
    """HyperKitty answered with an error status: the archive runner retries later."""


def multipart_form(fields: dict[str, str], files: dict[str, bytes]) -> tuple[str, bytes]:
    """A ``multipart/form-data`` body and its Content-Type, for fields and named files."""
    boundary = f"posthorn-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        head = f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode() + value.encode("utf-8"))
    for name, data in files.items():
        head = (
            f'Content-Disposition: form-data; name="{name}"; filename="{name}.eml"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data)
    dash = f"--{boundary}".encode()
    body = b"".join(dash + b"\r\n" + part + b"\r\n" for part in parts) + dash + b"--\r\n"
    return f"multipart/form-data; boundary={boundary}", body


class HyperKittyArchiver(Archiver):
    def _address(self, mlist: IMailingList) -> str:
        return quote(mlist.posting_address, safe="@")

    def list_url(self, mlist: IMailingList) -> str | None:
        base = self.base_url()
        return f"{base}/list/{self._address(mlist)}/" if base else None

    def permalink(self, mlist: IMailingList, msg: Message) -> str | None:
        base, hashed = self.base_url(), hash_of(msg)
        if not (base and hashed):
            return None
        return f"{base}/list/{self._address(mlist)}/message/{hashed}/"

    def endpoint(self) -> str:
        root = str(self.section.get_str("api_url")).rstrip("/") or self.base_url()
        if not root:
            raise HyperKittyRefused("[archiver.hyperkitty] base_url is empty")
        return root + API_PATH

    def archive_message(self, mlist: IMailingList, msg: Message) -> str | None:
        key = str(self.section.get_str("api_key"))
        if not key:
            raise HyperKittyRefused("[archiver.hyperkitty] api_key is empty")
        if msg.get("message-id") is None:
            raise ValueError("the message has no Message-ID")
        content_type, body = multipart_form(
            {"mlist": mlist.posting_address}, {"message": message_to_bytes(msg)}
        )
        request = urllib.request.Request(
            self.endpoint(),
            data=body,
            method="POST",
            headers={"Content-Type": content_type, "Authorization": f"Token {key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.section.get_float("timeout")) as r:
                answer = r.read()
        except urllib.error.HTTPError as error:
            text = error.read(300).decode("utf-8", "replace").strip()
            raise HyperKittyRefused(f"HTTP {error.code} from {error.url}: {text}") from None
        try:
            url = json.loads(answer).get("url")
        except (ValueError, AttributeError):
            raise HyperKittyRefused(f"not a JSON answer: {answer[:200]!r}") from None
        # HyperKitty builds its URL from its own site domain; ours follows base_url,
        # which is what the members' Archived-At holds.
        return self.permalink(mlist, msg) or (str(url) if url else None)
