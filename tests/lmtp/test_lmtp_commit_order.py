"""The 250 for a message comes only once its entry's folder fsync has finished."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any, cast

from aiosmtpd.smtp import Envelope

from posthorn.intake.lmtp import LMTPIntake
from posthorn.intake.precheck import Limits
from posthorn.interfaces.queues import ISwitchboard
from posthorn.queues import Switchboard
from posthorn.site import Site

MESSAGE = b"Subject: hello\r\n\r\nbody\r\n"


class SlowDisk:
    """A queue whose folder fsync waits until the test lets it finish."""

    def __init__(self, real: Switchboard) -> None:
        self.real = real
        self.syncing = threading.Event()
        self.finish = threading.Event()
        self.synced = 0

    def enqueue(self, msg: bytes, msgdata: dict[str, Any], *, durable: bool = True) -> str:
        return self.real.enqueue(msg, msgdata, durable=durable)

    def sync(self) -> None:
        self.syncing.set()
        assert self.finish.wait(30)
        self.real.sync()
        self.synced += 1


def test_the_reply_waits_for_the_folder_fsync(site: Site, var_dir: Path) -> None:
    site.lists.create("dev@example.org")
    disk = SlowDisk(Switchboard(var_dir / "queue" / "incoming"))
    intake = LMTPIntake(
        site,
        lambda name: cast(ISwitchboard, disk),
        limits=Limits(),
        max_recipients=3,
        hostname="lists.test",
        log=logging.getLogger("posthorn.lmtp"),
    )

    async def main() -> str:
        envelope = Envelope()
        envelope.mail_from = "alice@example.com"
        server, session = cast(Any, None), cast(Any, None)
        assert (await intake.handle_RCPT(server, session, envelope, "dev@example.org", []))[
            :3
        ] == "250"
        envelope.original_content = envelope.content = MESSAGE
        data = asyncio.create_task(intake.handle_DATA(server, session, envelope))
        # The entry is written and its folder fsync under way: no reply yet.
        assert await asyncio.to_thread(disk.syncing.wait, 30)
        assert len(disk.real.files) == 1
        # A moment for a reply sent too early to arrive.
        await asyncio.sleep(0.2)
        assert not data.done() and disk.synced == 0
        disk.finish.set()
        reply = await data
        assert disk.synced == 1
        return reply

    try:
        assert asyncio.run(main()).startswith("250 2.0.0 Queued as ")
    finally:
        disk.finish.set()
        intake.close()
