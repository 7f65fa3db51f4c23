"""Where every queue of the site comes from: the backend ``[queues]`` configures.

Runners, the LMTP and REST servers, the CLI, moderation and digests all make their
queues here (``open_queue``) or ask the site's store (``queue_store``) for counts,
listings and an administrator's single-entry actions, so none of them knows whether
a queue is a folder of files or a RabbitMQ queue.
"""

from __future__ import annotations

import logging
from email.policy import Policy, compat32
from typing import Any

from posthorn.config import Config, ConfigError
from posthorn.interfaces.queues import IQueueStore, ISwitchboard
from posthorn.queues.factory import BadQueueSetting, QueueSettings, open_store
from posthorn.runners.retrying import RETRY_AFTER, RETRY_QUEUE

# Runners that serve a socket and read no queue; queues no runner reads.
SERVICES = frozenset({"lmtp", "rest", "*"})
PARKED_QUEUES = ("bad", "dead", "hold", "shunt")

__all__ = ["open_queue", "queue_settings", "queue_store"]


def queue_settings(config: Config) -> QueueSettings:
    """The queue settings of ``config``; ConfigError for a backend that does not exist."""
    section = config["queues"]
    runners = [name for name in config.named("runner") if name not in SERVICES]
    return QueueSettings(
        queue_dir=config.path("queue_dir"),
        backend=section.get_str("backend").strip().lower(),
        amqp_url=section.get_str("amqp_url").strip(),
        amqp_prefix=section.get_str("amqp_prefix").strip(),
        amqp_max_message_size=section.get_int("amqp_max_message_size"),
        known=(*runners, *PARKED_QUEUES),
        delayed=(RETRY_QUEUE,),
        due_key=RETRY_AFTER,
    )


def queue_store(config: Config) -> IQueueStore:
    """The site's queues, on the configured backend (raises ConfigError if unusable)."""
    try:
        return open_store(queue_settings(config))
    except BadQueueSetting as error:
        raise ConfigError(
            error.message, config["queues"].source(error.key), "queues", error.key
        ) from None


def open_queue(
    config: Config,
    name: str,
    *,
    slice: int = 0,
    count: int = 1,
    prefetch: int = 0,
    logger: logging.Logger | None = None,
    policy: Policy[Any] = compat32,
) -> ISwitchboard:
    """Queue ``name`` of the site (a reader of one slice, with ``count`` > 1)."""
    return queue_store(config).open(
        name, slice=slice, count=count, prefetch=prefetch, logger=logger, policy=policy
    )
