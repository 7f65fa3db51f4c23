"""smtp.log is reopened with the other logs (after logrotate renamed it)."""

from __future__ import annotations

import logging

from posthorn.logs import reopen_logs
from posthorn.runners.outgoing import OutgoingRunner
from posthorn.site import Site


def test_smtp_log_is_reopened(site: Site) -> None:
    runner = OutgoingRunner(site, "outgoing")
    logger = logging.getLogger("posthorn.smtp")
    logger.setLevel(logging.INFO)
    try:
        path = site.config.path("log_dir") / "smtp.log"
        logger.info("before rotation")
        path.rename(path.with_name("smtp.log.1"))
        reopen_logs()
        logger.info("after rotation")
        assert "after rotation" in path.read_text()
        assert "after rotation" not in path.with_name("smtp.log.1").read_text()
    finally:
        runner.close()
        logger.setLevel(logging.NOTSET)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
