"""Sending failed pages through the pipeline again, from the stage where they failed."""

from __future__ import annotations

from collections.abc import Iterable

from celery import chain

from workers.celery_app import app
from workers.models import FailureRecord
from workers.store.failures import FailureStore

# The stages a failed stage's stored message goes through again, sent as a chain like any page.
REMAINING = {"parse": ("gleaner.parse", "gleaner.enrich", "gleaner.index"),
             "enrich": ("gleaner.enrich", "gleaner.index"),
             "index": ("gleaner.index",)}


def retry_failures(store: FailureStore, records: Iterable[FailureRecord]) -> tuple[int, int]:
    """Resubmit each record's stored message; returns (resubmitted, not retryable).

    The record is deleted once its message is on the queue; if the page fails again, it gets a
    new record (with its attempts carried over from nothing: it is a new try).
    """
    sent = unretryable = 0
    for record in records:
        stages = REMAINING.get(record.stage)
        if not stages or not record.payload:
            unretryable += 1
            continue
        first, *rest = stages
        # A bundle of one page (a task's argument is a list of pages).
        chain(app.signature(first, args=([record.payload],)), *(app.signature(s) for s in rest)).apply_async(retry=True)
        store.delete(record.id)
        sent += 1
    return sent, unretryable
