"""The outgoing runner: delivers each post to its recipients through the MTA.

Recipients are read by ``posthorn.delivery.recipients``, ``roster_chunk`` members at a
time.  Without personalization or VERP the post goes in bulk, one transaction per batch
of ``max_recipients``; with either, one transaction per member, with its own To:,
footer and VERP envelope sender.  Batches run ``connections`` at a time over reused
connections, at most twice that many waiting (``delivery.fanout``).  The envelope sender is
the list's ``-bounces`` address unless ``msgdata["sender"]`` names one.  With ``[arc]``
on, each copy's final bytes are ARC-signed (``handlers.arc_sign``).

Failures: recipients refused with 4xx, or not reached because the MTA was down, go to
queue ``retry`` as one entry naming exactly them, due after an exponential backoff
(``retry_base`` doubled per attempt); past ``delivery_retry_period`` the owners are told
and the entry is shunted with the reason, where ``posthorn unshunt`` can re-queue it.
A 5xx at RCPT is a bounce: an entry on queue ``bounce`` and a ``DeliveryBounceEvent``.
A 5xx for the message (MAIL FROM, DATA, "500 line too long") parks it on queue
``dead`` with the reason (``dead_reason``), for the recipients of the refused batches;
the owners get one notice naming it, unless it is itself a notice (``is_notice``).
Every post's finished recipients are recorded (``delivery.records``), by list,
audience and Message-ID-Hash, for ``record_age``: a crash re-sends at most the batches
in flight, and a second entry for the same post (an earlier stage redone after a kill)
sends nothing to those already served.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message
from functools import partial
from itertools import chain
from typing import Any

from posthorn.delivery.events import DeliveryBounceEvent
from posthorn.delivery.fanout import Settlement, fan_out
from posthorn.delivery.progress import audience_of
from posthorn.delivery.recipients import batches, recipient_chunks, verp_sender
from posthorn.delivery.records import delivery_records
from posthorn.delivery.smtp import SMTPSettings, Transaction, Transport
from posthorn.delivery.wire import to_wire
from posthorn.handlers.arc_sign import ArcSigner
from posthorn.handlers.decorate import decorate
from posthorn.i18n import _, list_translator
from posthorn.interfaces.delivery import IDeliveryRecord
from posthorn.interfaces.lists import IMailingList
from posthorn.logs import FORMAT, ReopenableFileHandler
from posthorn.messages.notices import is_notice, make_notice
from posthorn.runners.base import Runner
from posthorn.site import Site
from posthorn.site_lock import SiteLocks

__all__ = ["DeliveryGaveUp", "OutgoingRunner"]

# How often old delivery records are looked for (``record_age`` says which are old).
PRUNE_INTERVAL = 3600.0


class DeliveryGaveUp(Exception):
    """Recipients kept failing past delivery_retry_period: shunt the entry."""


class OutgoingRunner(Runner):
    # A burst of posts to one list looks the list up once a second (see Runner).
    list_cache = True

    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        mta, section = site.config["mta"], self.section
        self.max_recipients = section.get_int("max_recipients")
        self.roster_chunk = section.get_int("roster_chunk")
        self.connections = section.get_int("connections")
        self.verp = section.get_bool("verp")
        self.retry_period = section.get_float("delivery_retry_period")
        self.retry_base = section.get_float("retry_base")
        self.transport = Transport(
            SMTPSettings(
                host=mta.get_str("smtp_host"),
                port=mta.get_int("smtp_port"),
                connect_timeout=section.get_float("connect_timeout"),
                command_timeout=section.get_float("command_timeout"),
                max_sessions_per_connection=section.get_int("max_sessions_per_connection"),
                idle_timeout=section.get_float("idle_timeout"),
                user=mta.get_str("smtp_user"),
                password=mta.get_str("smtp_pass"),
            )
        )
        self.pool = ThreadPoolExecutor(self.connections, "smtp")
        self.records = delivery_records(site)
        self.record_age = section.get_float("record_age")
        self.locks = SiteLocks.from_site(site)
        self._next_prune = 0.0
        self.arc = ArcSigner.from_config(site.config)
        _smtp_log(site)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.transport.close()
        super().close()

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        if mlist is None:
            raise ValueError("the entry names no list (msgdata list_id)")
        self._prune()
        # avoid-duplicates names the members who get no copy (receive_list_copy off
        # and in To/Cc, or the poster with receive_own_postings off).
        skip = {str(address).lower() for address in msgdata.get("skip_recipients", ())}
        lists, cache = self.site.lists, self.site.cache
        chunks = recipient_chunks(lists, mlist, msgdata, self.roster_chunk, skip, cache)
        first = next(chunks, None)
        if first is None:
            # Said in the log, so `posthorn where` has an answer for such a post.
            self.log.info("%s: no recipients for %s", mlist.list_id, msg.get("message-id"))
            return
        message_id = str(msg.get("message-id") or "")
        audience = audience_of(msgdata)
        with self.records.open(mlist.list_id, audience, message_id) as record:
            count = _Count()
            todo = self._todo(chain([first], chunks), record, msgdata, mlist, count)
            settlement = self._deliver(mlist, msg, msgdata, todo, record)
            if count.passed:
                self.log.info("%s: %s already handled for %d of %d recipients; not sent again",
                              mlist.list_id, message_id, count.passed, count.total)  # fmt: skip
            self._settle(mlist, msg, {**msgdata, "audience": audience}, settlement, record)

    def _todo(
        self,
        chunks: Iterator[list[str]],
        record: IDeliveryRecord,
        msgdata: dict[str, Any],
        mlist: IMailingList,
        count: _Count,
    ) -> Iterator[list[str]]:
        """The batches still to send, a chunk of the roster at a time.

        A second entry for the same post (an earlier stage redone after a kill) finds
        its recipients done; only an entry re-queued from dead sends to the recipients
        parked there.
        """
        parked = set() if msgdata.get("dead_reason") else record.parked
        per_member = self.verp or mlist.personalize != "none"
        for chunk in chunks:
            if record.done or parked:
                todo = [a for a in chunk if a not in record.done and a not in parked]
            else:
                todo = chunk  # nothing served yet: the usual case
            count.total += len(chunk)
            count.passed += len(chunk) - len(todo)
            yield from batches(todo, 1 if per_member else self.max_recipients)

    def _prune(self) -> None:
        if time.monotonic() < self._next_prune:
            return
        # Site-wide (posthorn.site_lock): of the outgoing runners of every host, one prunes.
        wait = self.locks.run_due("outgoing.prune", PRUNE_INTERVAL, self._prune_records, self.log)
        self._next_prune = time.monotonic() + wait

    def _prune_records(self) -> None:
        removed = self.records.prune(self.record_age)
        if removed:
            self.log.info("removed %d delivery records older than record_age", removed)

    def _deliver(
        self,
        mlist: IMailingList,
        msg: Message,
        msgdata: dict[str, Any],
        todo: Iterator[list[str]],
        record: IDeliveryRecord,
    ) -> Settlement:
        sender = str(msgdata.get("sender") or mlist.bounces_address)
        per_member = self.verp or mlist.personalize != "none"
        bulk = None if msgdata.get("decorate_per_recipient") else self._wire(msg, msgdata)
        message_id = str(msg.get("message-id") or "").strip()

        def prepare(chunk: list[str]) -> Callable[[], Transaction]:
            envelope = verp_sender(sender, chunk[0]) if per_member else sender
            data = bulk if bulk is not None else self._personalize(mlist, msg, msgdata, chunk[0])
            return partial(
                self.transport.send, envelope, chunk, data, message_id=message_id,
                list_id=mlist.list_id,
            )  # fmt: skip

        return fan_out(todo, prepare, self.pool, 2 * self.connections, record)

    def _personalize(
        self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any], address: str
    ) -> bytes:
        copied = copy.deepcopy(msg)
        del copied["to"]
        copied["To"] = address
        decorate(mlist, copied, {"user_address": address, "user_delivered_to": address})
        return self._wire(copied, msgdata)

    def _wire(self, msg: Message, msgdata: dict[str, Any]) -> bytes:
        """A copy's final bytes, ARC-signed when the pipeline verified it on arrival."""
        data = to_wire(msg)
        results = msgdata.get("arc_results")
        if self.arc is None or not isinstance(results, str):
            return data
        return self.arc.sign(data, results)

    def _settle(
        self,
        mlist: IMailingList,
        msg: Message,
        msgdata: dict[str, Any],
        settlement: Settlement,
        record: IDeliveryRecord,
    ) -> None:
        if settlement.bounced:
            self._bounce(mlist, msg, settlement.bounced)
        if settlement.refused:
            self._dead(mlist, msg, msgdata, settlement.refused, record)
        if settlement.temporary:
            self._retry(mlist, msg, msgdata, settlement.temporary, record)

    def _bounce(
        self, mlist: IMailingList, msg: Message, bounced: dict[str, tuple[int, str]]
    ) -> None:
        message_id = str(msg.get("message-id", ""))
        for address, (code, text) in sorted(bounced.items()):
            self.site.events.notify(
                DeliveryBounceEvent(mlist.list_id, address, code, text, message_id)
            )
        data = {
            "list_id": mlist.list_id,
            "bounce_source": "smtp",
            "smtp_failures": {a: [c, t] for a, (c, t) in bounced.items()},
        }
        self.enqueue("bounce", msg, data)
        self.log.info("%s: %d permanent refusals recorded", mlist.list_id, len(bounced))

    def _dead(
        self,
        mlist: IMailingList,
        msg: Message,
        msgdata: dict[str, Any],
        refused: list[Transaction],
        record: IDeliveryRecord,
    ) -> None:
        """The MTA refused the message itself: park it on ``dead`` and tell the owners once.

        Retrying cannot help and the members did nothing wrong (no bounce score moves).
        ``posthorn unshunt --queue dead`` sends it again, to the recipients refused.
        """
        addresses = sorted({a for result in refused for a in result.recipients})
        code, text = refused[0].message_error or (0, "")
        reason = f"{code} {text}"
        self.log.error(
            "%s: the MTA refused %s for %d recipients: %s; moved to queue dead",
            mlist.list_id, msg.get("message-id"), len(addresses), reason,
        )  # fmt: skip
        data = dict(msgdata)
        for key in ("pipeline", "retry_after", "retry_queue", "retry_reason"):
            data.pop(key, None)
        data.update(recipients=addresses, dead_reason=reason)
        told = bool(msgdata.get("owners_told")) or record.told
        notify = not told and not is_notice(msg, msgdata)
        data["owners_told"] = told or notify
        # In this order: a kill in between leaves the post parked twice (a redo finds
        # it not parked yet), never not at all.
        self.enqueue("dead", msg, data, whichq=self.name)
        record.park(addresses)
        if notify:
            self._notify_owners(
                mlist,
                msg,
                _("Delivery of a message to $list failed"),
                _(
                    "The mail server refused this message for $count recipients:\n"
                    "$reason\n\n"
                    "It is kept on the dead queue; `posthorn unshunt --queue dead` sends it "
                    "again once the cause is fixed.\n"
                ),
                count=len(addresses),
                reason=_one_line(reason),
            )
            record.mark_told()
        record.sync()

    def _notify_owners(
        self, mlist: IMailingList, msg: Message, subject: str, text: str, **values: object
    ) -> None:
        """Tell the owners about ``msg``; never about a notice (that is how storms start).

        The notice names the message rather than carrying it: what made the MTA refuse
        the message would make it refuse a notice that carried it too.  ``subject``
        and ``text`` are marked sentences, written in the list's language.
        """
        translate = list_translator(self.site.config, mlist)
        subject = translate(subject, list=mlist.fqdn_listname, **values)
        text = translate(text, list=mlist.fqdn_listname, **values)
        if is_notice(msg, {}):
            self.log.warning("%s: not telling the owners about a notice: %s", mlist.list_id,
                             subject)  # fmt: skip
            return
        owners = [member.email for member in self.site.lists.roster(mlist).owners]
        if not owners:
            self.log.warning("%s: no owners to tell: %s", mlist.list_id, subject)
            return
        about = "".join(
            f"{name}: {_one_line(str(msg.get(name, '')))}\n"
            for name in ("Message-ID", "From", "Subject", "Date")
        )
        notice, data = make_notice(mlist, owners, subject, f"{text}\n{about}", kind="delivery",
                                   charset=translate.charset)  # fmt: skip
        self.enqueue("virgin", notice, data)

    def _retry(
        self,
        mlist: IMailingList,
        msg: Message,
        msgdata: dict[str, Any],
        temporary: dict[str, tuple[int, str]],
        record: IDeliveryRecord,
    ) -> None:
        now = time.time()
        first = float(msgdata.get("first_failure") or now)
        sample = next(iter(temporary.values()))
        if now - first >= self.retry_period:
            text = _(
                "Delivery to $count recipients kept failing for "
                "${seconds}s; the last answer was $answer.\n"
                "The message is kept on the shunt queue; `posthorn unshunt` retries it.\n"
            )
            values = {"count": len(temporary), "seconds": int(now - first),
                      "answer": f"{sample[0]} {sample[1]}"}  # fmt: skip
            # At most one notice per post: none if they heard of a refusal already.
            if not is_notice(msg, msgdata) and not record.told:
                record.mark_told()
                self._notify_owners(mlist, msg, _("Delivery to $list failed"), text, **values)
            # The shunted entry names every recipient; the record keeps those already
            # served from getting a second copy when a person re-queues it.
            record.sync()
            raise DeliveryGaveUp(f"gave up after {int(now - first)}s: {sample[0]} {sample[1]}")
        retries = int(msgdata.get("retries", 0))
        data = dict(msgdata)
        data.update(
            recipients=sorted(temporary),
            retries=retries + 1,
            retry_queue="outgoing",
            retry_reason=f"{sample[0]} {sample[1]}",
            retry_after=now + self.retry_base * 2**retries,
            first_failure=first,
            audience=msgdata["audience"],
        )
        data.pop("pipeline", None)
        self.enqueue("retry", msg, data)
        self.log.info("%s: %d recipients to retry (%d %s)", mlist.list_id, len(temporary), *sample)


@dataclass
class _Count:
    """How many recipients a post had, and how many an earlier entry had served."""

    total: int = 0
    passed: int = 0


def _one_line(text: str, limit: int = 200) -> str:
    """Header or reply text made safe for one line of a notice."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _smtp_log(site: Site) -> None:
    """Every SMTP transaction also goes to ``smtp.log``, one line each."""
    logger = logging.getLogger("posthorn.smtp")
    if any(isinstance(h, ReopenableFileHandler) for h in logger.handlers):
        return
    path = site.config.path("log_dir") / "smtp.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = ReopenableFileHandler(path)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    logger.propagate = False
