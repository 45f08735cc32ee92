"""Waiting out an unreachable Redis (``workers/delivery/broker_wait.py``)."""

import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from workers.delivery.broker_wait import wait_for_broker
from workers.errors import BrokerUnavailable

pytestmark = pytest.mark.unit


def test_redis_back_within_the_wait_is_not_an_error():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RedisConnectionError("down")
        return "ok"

    assert wait_for_broker(flaky, what="test", wait_s=10) == "ok" and len(calls) == 3


def test_redis_down_for_longer_is_broker_unavailable():
    def down():
        raise RedisConnectionError("down")

    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match="test: Redis unreachable"):
        wait_for_broker(down, what="test", wait_s=0.5)
    assert time.monotonic() - started < 2


def test_other_errors_are_not_waited_for():
    def bug():
        raise KeyError("x")

    with pytest.raises(KeyError):
        wait_for_broker(bug, what="test", wait_s=10)
