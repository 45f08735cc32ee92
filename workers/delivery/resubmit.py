"""Sending failed pages through the pipeline again, from the stage where they failed."""

from __future__ import annotations

from collections.abc import Iterable

from workers.config import get_settings
from workers.delivery.app import app
from workers.delivery.broker_wait import broker_retry_policy
from workers.models import FailureRecord
from workers.pipeline import can_retry, task_name
from workers.store.failures import FailureStore


def retry_failures(store: FailureStore, records: Iterable[FailureRecord]) -> tuple[int, int]:
    """Resubmit each record's stored message to its stage's queue, as a bundle of one page (the
    stage hands it on to the next as usual); returns (resubmitted, not retryable).

    The record is deleted once its message is on the queue; if the page fails again, it gets a
    new record (with its attempts carried over from nothing: it is a new try).
    """
    policy = broker_retry_policy(get_settings().broker_wait_s)
    sent = unretryable = 0
    for record in records:
        if not can_retry(record):
            unretryable += 1
            continue
        app.send_task(task_name(record.stage), args=([record.payload],), argsrepr="[1 page]", retry=True,
                      retry_policy=policy)
        store.delete(record.id)
        sent += 1
    return sent, unretryable
