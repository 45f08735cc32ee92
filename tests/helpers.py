"""Helpers shared by the integration and fault suites."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """The first truthy value of ``predicate``; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(interval)


def batch_id_in(text: str) -> str:
    """The batch id ``gleaner submit`` printed (``20261124T213124-d27304``)."""
    for word in text.split():
        word = word.strip(":")
        if word.count("-") == 1 and word[:8].isdigit() and "T" in word:
            return word
    raise AssertionError(f"no batch id in output: {text}")
