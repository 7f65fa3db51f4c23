"""``posthorn digests``: send digests now (cron-friendly) or start a new volume.

``--send`` sends every list's gathered posts, whatever their size, on the lists with
``digest_send_periodic`` (or the list named by ``--list``, whatever that setting
says), queueing the digests on ``virgin`` for the running Posthorn to deliver.
``--bump`` starts a new volume first.  Without either, it shows what is waiting.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

import click

from posthorn.cli import CliContext, pass_cli
from posthorn.digests.numbering import bump_volume
from posthorn.digests.send import DigestSender, periodic_lock
from posthorn.digests.store import digest_stores
from posthorn.errors import NoSuchListError
from posthorn.interfaces.lists import IMailingList
from posthorn.queuing import open_queue


def _lists(cli: CliContext, name: str | None) -> list[IMailingList]:
    if name is None:
        return [m for m in cli.site.lists.lists() if m.digests_enabled]
    mlist = cli.site.lists.get(name)
    if mlist is None:
        raise NoSuchListError(f"no such list: {name}")
    return [mlist]


@click.command()
@click.option("-l", "--list", "list_name", metavar="LIST", help="Only this list.")
@click.option("-s", "--send", is_flag=True, help="Send what has gathered, whatever its size.")
@click.option("-b", "--bump", is_flag=True, help="Start a new volume (issues count from 1).")
@pass_cli
def command(cli: CliContext, list_name: str | None, send: bool, bump: bool) -> None:
    """Send digests now, start a new digest volume, or show what is waiting."""
    site = cli.site
    stores = digest_stores(site)
    lists = _lists(cli, list_name)
    if bump:
        for mlist in lists:
            volume = bump_volume(site.databases.session_factory("list"), mlist.list_id)
            click.echo(f"{mlist.fqdn_listname}: volume {volume} begins")
    if not send:
        if not bump:
            for mlist in lists:
                size = sum(store.size(mlist.list_id) for store in stores)
                click.echo(f"{mlist.fqdn_listname}: {size} bytes waiting")
        return
    # The task runner's periodic digests take the same lock: one sends, the other finds
    # the digests sent.
    with (
        periodic_lock(site),
        open_queue(cli.config, "virgin") as virgin,
    ):

        def queue(msg: Message, data: dict[str, Any]) -> None:
            virgin.enqueue(msg, data)

        sender = DigestSender(site, queue)
        for mlist in lists:
            if list_name is None and not mlist.digest_send_periodic:
                continue
            sent = sender.run(mlist, force=True)
            click.echo(f"{mlist.fqdn_listname}: {sent} digest(s) queued")


command.name = "digests"
