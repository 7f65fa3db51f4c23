"""dmarc-mitigation: apply the list's DMARC mitigation to posts from strict domains.

When the From domain publishes ``p=reject`` or ``p=quarantine`` (``dmarc.py``), or
the list mitigates unconditionally, or the sender is one of the list's
``dmarc_addresses`` (exact, or ``^regex``), the list's ``dmarc_mitigate_action`` applies:
``munge_from`` and ``wrap_message`` are recorded as ``msgdata["dmarc_action"]`` for
the pipeline to carry out (a hit whose action is ``defer``: the other rules still
run); ``reject`` and ``discard`` end the post here.  A post without an identifiable
sender is left to the moderation rules.
"""

from __future__ import annotations

from email.message import Message
from typing import TYPE_CHECKING, Any

from posthorn.dmarc import DmarcResolver
from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.rules import Rule, add_reason, matches_address, sender_of, set_action

if TYPE_CHECKING:
    from posthorn.site import Site


def resolver_for(site: Site) -> DmarcResolver:
    section = site.config["dmarc"]
    return DmarcResolver(
        nameservers=section.get_list("nameservers"),
        port=section.get_int("port"),
        timeout=section.get_float("timeout"),
        cache_ttl=section.get_float("cache_ttl"),
    )


class DmarcMitigation(Rule):
    name = "dmarc-mitigation"
    description = "The sender's domain publishes a strict DMARC policy."
    action = "defer"

    def __init__(self, site: Site) -> None:
        super().__init__(site)
        self.resolver = resolver_for(site)

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        mitigation = mlist.dmarc_mitigate_action
        address = sender_of(msg)
        if mitigation == "no_mitigation" or address is None:
            return False
        domain = address.rpartition("@")[2]
        # dmarc_addresses: senders (exact, or ^regex) always mitigated, as Mailman does.
        always = mlist.dmarc_mitigate_unconditionally or matches_address(
            address, mlist.dmarc_addresses
        )
        policy = None if always else self.resolver.policy(domain)
        if not always and policy not in ("reject", "quarantine"):
            return False
        if mitigation in ("munge_from", "wrap_message"):
            msgdata["dmarc_action"] = mitigation
            set_action(msgdata, "defer")
            return True
        set_action(msgdata, mitigation)
        # The list's own notice is the owner's text, in whatever language they wrote it.
        notice = mlist.dmarc_moderation_notice.replace("$", "$$") or _(
            "$domain publishes a DMARC policy that this list cannot honour"
        )
        add_reason(msgdata, notice, domain=domain)
        return True
