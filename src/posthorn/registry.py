"""The registry: names to implementations, built once from the configuration.

Built-ins are listed here by import path and imported only when first asked for, so
nothing registers itself at import time and a reader finds every built-in in one table.
Third parties add names through entry points (group ``posthorn.<kind>s``); a site can
also name a dotted path directly wherever a name is accepted.
"""

from __future__ import annotations

import functools
import importlib
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from posthorn.config import Config

__all__ = [
    "BUILTINS",
    "Registry",
    "RegistryError",
    "forget_plugins",
    "import_dotted",
    "plugin_entry_points",
]

# kind -> name -> "module:attribute".  Add a built-in by adding one line here.
BUILTINS: dict[str, dict[str, str]] = {
    "runner": {
        "lmtp": "posthorn.runners.lmtp:LMTPRunner",
        "rest": "posthorn.runners.rest:RestRunner",
        "incoming": "posthorn.runners.incoming:IncomingRunner",
        "pipeline": "posthorn.runners.pipeline:PipelineRunner",
        "virgin": "posthorn.runners.virgin:VirginRunner",
        "outgoing": "posthorn.runners.outgoing:OutgoingRunner",
        "retry": "posthorn.runners.retry:RetryRunner",
        "archive": "posthorn.runners.archive:ArchiveRunner",
        "bounce": "posthorn.runners.bounce:BounceRunner",
        "digest": "posthorn.runners.digest:DigestRunner",
        "command": "posthorn.runners.command:CommandRunner",
        "task": "posthorn.runners.task:TaskRunner",
        "nntp": "posthorn.runners.nntp:NNTPRunner",
    },
    "handler": {
        "acknowledge": "posthorn.handlers.acknowledge:Acknowledge",
        "after-delivery": "posthorn.handlers.after_delivery:AfterDelivery",
        "arc-sign": "posthorn.handlers.arc_sign:ArcSign",
        "autorespond": "posthorn.handlers.autorespond:AutoRespond",
        "avoid-duplicates": "posthorn.handlers.avoid_duplicates:AvoidDuplicates",
        "cleanse": "posthorn.handlers.cleanse:Cleanse",
        "cleanse-dkim": "posthorn.handlers.cleanse_dkim:CleanseDKIM",
        "cook-headers": "posthorn.handlers.cook_headers:CookHeaders",
        "decorate": "posthorn.handlers.decorate:Decorate",
        "dmarc": "posthorn.handlers.dmarc:Dmarc",
        "mime-delete": "posthorn.handlers.mime_delete:MimeDelete",
        "subject-prefix": "posthorn.handlers.subject_prefix:SubjectPrefix",
        "to-archive": "posthorn.handlers.to_archive:ToArchive",
        "to-digest": "posthorn.handlers.to_digest:ToDigest",
        "to-outgoing": "posthorn.handlers.to_outgoing:ToOutgoing",
        "to-usenet": "posthorn.handlers.to_usenet:ToUsenet",
    },
    "rule": {
        "approved": "posthorn.rules.approved:Approved",
        "emergency": "posthorn.rules.emergency:Emergency",
        "loop": "posthorn.rules.loop:Loop",
        "banned-address": "posthorn.rules.banned_address:BannedAddress",
        "dmarc-mitigation": "posthorn.rules.dmarc_mitigation:DmarcMitigation",
        "member-moderation": "posthorn.rules.member_moderation:MemberModeration",
        "nonmember-moderation": "posthorn.rules.nonmember_moderation:NonmemberModeration",
        "administrivia": "posthorn.rules.administrivia:Administrivia",
        "implicit-destination": "posthorn.rules.implicit_destination:ImplicitDestination",
        "max-recipients": "posthorn.rules.max_recipients:MaxRecipients",
        "max-size": "posthorn.rules.max_size:MaxSize",
        "no-subject": "posthorn.rules.no_subject:NoSubject",
        "suspicious-header": "posthorn.rules.suspicious_header:SuspiciousHeader",
        "header-match": "posthorn.rules.header_match:HeaderMatch",
    },
    "chain": {
        "accept": "posthorn.chains.accept:AcceptChain",
        "hold": "posthorn.chains.hold:HoldChain",
        "reject": "posthorn.chains.reject:RejectChain",
        "discard": "posthorn.chains.discard:DiscardChain",
        "default-posting-chain": "posthorn.chains.default_posting_chain:PostingChain",
        "default-owner-chain": "posthorn.chains.default_owner_chain:OwnerChain",
    },
    "archiver": {
        "prototype": "posthorn.archivers.prototype:PrototypeArchiver",
        "mail-archive": "posthorn.archivers.mail_archive:MailArchiveArchiver",
        "command": "posthorn.archivers.command:CommandArchiver",
        "lmtp": "posthorn.archivers.lmtp:LMTPArchiver",
        "hyperkitty": "posthorn.archivers.hyperkitty:HyperKittyArchiver",
    },
    # Email commands (-request and friends), one module each in posthorn.commands.
    "command": {
        "confirm": "posthorn.commands.confirm:Confirm",
        "end": "posthorn.commands.end:End",
        "help": "posthorn.commands.help:Help",
        "join": "posthorn.commands.join:Join",
        "leave": "posthorn.commands.leave:Leave",
        "who": "posthorn.commands.who:Who",
    },
    "user_manager": {
        "database": "posthorn.model.users:DatabaseUserManager",
    },
    "list_manager": {
        "database": "posthorn.model.list_manager:DatabaseListManager",
    },
    "domain_manager": {
        "database": "posthorn.model.domains:DatabaseDomainManager",
    },
    "message_store": {
        "database": "posthorn.model.messages:DatabaseMessageStore",
    },
}


class RegistryError(LookupError):
    """A name that no built-in, entry point or import path provides."""


def import_dotted(path: str) -> Any:
    """Import ``package.module:attr`` or ``package.module.attr``."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise RegistryError(f"{path!r} is not an import path like package.module.Name")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise RegistryError(f"cannot import {module_name!r} for {path!r}: {error}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise RegistryError(f"module {module_name!r} has no {attr!r}") from None


@functools.cache
def plugin_entry_points(group: str) -> tuple[EntryPoint, ...]:
    """The installed entry points of ``group``, read once per process.

    Reading them opens every installed distribution's metadata; a runner doing it
    for itself wrote to some 2 MiB of the heap it shares with the master, copying
    those pages.  The master reads them before forking (``preload``), so its runners
    share one copy; ``forget_plugins`` on reload.  ``bench/memory_bench.py site``:
    205 MiB PSS at start instead of 213, 302 after posts instead of 307.
    """
    return tuple(entry_points(group=group))


def forget_plugins() -> None:
    """Read the entry points afresh next time: plugins may have been installed since."""
    plugin_entry_points.cache_clear()


class Registry:
    """Resolves names of one kind (runner, handler, archiver, ...) to objects."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config
        self._cache: dict[tuple[str, str], Any] = {}

    def _entry_points(self, kind: str) -> dict[str, str]:
        return {ep.name: ep.value for ep in plugin_entry_points(f"posthorn.{kind}s")}

    def names(self, kind: str) -> list[str]:
        return sorted({*BUILTINS.get(kind, {}), *self._entry_points(kind)})

    def path_of(self, kind: str, name: str) -> str:
        """The import path behind a name, or the name itself when it is a dotted path."""
        builtin = BUILTINS.get(kind, {})
        if name in builtin:
            return builtin[name]
        plugins = self._entry_points(kind)
        if name in plugins:
            return plugins[name]
        if "." in name or ":" in name:
            return name
        known = ", ".join(self.names(kind)) or "none"
        raise RegistryError(f"no {kind.replace('_', ' ')} named {name!r} (known: {known})")

    def load(self, kind: str, name: str) -> Any:
        key = (kind, name)
        if key not in self._cache:
            self._cache[key] = import_dotted(self.path_of(kind, name))
        return self._cache[key]
