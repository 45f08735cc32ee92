"""Waiting out an unreachable Redis: one helper for the workers and the producer alike.

A Redis restart (or a failover) takes seconds; everything Gleaner writes to Redis waits for it for
up to ``GLEANER_BROKER_WAIT_S`` before giving up with ``BrokerUnavailable``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from workers.config import get_settings
from workers.errors import BrokerUnavailable

log = logging.getLogger("gleaner.broker")
T = TypeVar("T")

#: what Redis being unreachable looks like, from redis-py, kombu and the socket underneath
BROKER_ERRORS: tuple[type[BaseException], ...] = (RedisError, OperationalError, ConnectionError, TimeoutError, OSError)


def wait_for_broker(fn: Callable[[], T], *, what: str, wait_s: float | None = None) -> T:
    """``fn()``, tried again while Redis is unreachable, for up to ``wait_s`` seconds (default
    ``GLEANER_BROKER_WAIT_S``); raises ``BrokerUnavailable`` after that."""
    deadline = time.monotonic() + (get_settings().broker_wait_s if wait_s is None else wait_s)
    delay = 0.2
    while True:
        try:
            return fn()
        except BROKER_ERRORS as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerUnavailable(f"{what}: Redis unreachable: {exc}") from exc
            log.warning("redis unreachable, retrying", extra={"error": f"{what}: {exc}"[:300]})
            time.sleep(min(delay, remaining))  # the last try comes at the deadline, not before it
            delay = min(delay * 2, 2.0)


def broker_retry_policy(wait_s: float) -> dict[str, float]:
    """kombu's publish retry policy that keeps trying for about ``wait_s`` seconds (for
    ``apply_async(retry=True, retry_policy=...)``, where kombu does the waiting)."""
    start, step, cap = 0.2, 0.5, 2.0
    total, retries, interval = 0.0, 0, start
    while total < wait_s:
        total += interval
        retries += 1
        interval = min(cap, interval + step)
    return {"max_retries": max(1, retries), "interval_start": start, "interval_step": step, "interval_max": cap}
