"""Sending failed pages through the pipeline again, from the stage where they failed."""

from __future__ import annotations

from collections.abc import Iterable

from celery import chain

from workers.celery_app import app
from workers.models import FailureRecord
from workers.store.failures import FailureStore

_REMAINING = {"parse": ("gleaner.parse", "gleaner.enrich", "gleaner.index"),
              "enrich": ("gleaner.enrich", "gleaner.index"),
              "index": ("gleaner.index",)}


def retry_failures(store: FailureStore, records: Iterable[FailureRecord]) -> tuple[int, int]:
    """Resubmit each record's stored message; returns (resubmitted, not retryable)."""
    sent = unretryable = 0
    for record in records:
        stages = _REMAINING.get(record.stage)
        if not stages or not record.payload:
            unretryable += 1
            continue
        first, *rest = stages
        chain(app.signature(first, args=(record.payload,)), *(app.signature(s) for s in rest)).apply_async()
        store.delete(record.id)
        sent += 1
    return sent, unretryable
