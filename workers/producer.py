"""The producer: reads inputs and sends each page as the chain ``parse | enrich | index``.

Each stage publishes the next one itself (``workers/tasks.py``). If Redis becomes unreachable
while submitting, the producer waits for it (``GLEANER_BROKER_WAIT_S``); if it does not come back
the producer stops and reports exactly which pages it did not submit (``SubmitSummary.not_submitted``,
or ``SubmitIncomplete`` with ``raise_incomplete=True``): every page it counts as submitted is in
Redis.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TypeVar

from celery import chain
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from workers.celery_app import app, broker_retry_policy
from workers.config import Settings, get_settings
from workers.messages import pack_page
from workers.models import RawPage
from workers.sources import Item, Skipped, iter_inputs
from workers.store.failures import FailureStore
from workers.store.progress import ProgressStore

log = logging.getLogger("gleaner.producer")
_PROGRESS_EVERY = 500
BROKER_ERRORS = (RedisError, OperationalError, ConnectionError, TimeoutError, OSError)
T = TypeVar("T")


def new_batch_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


@dataclass
class SubmitSummary:
    batch_id: str
    submitted: int = 0
    bytes_submitted: int = 0
    refused: int = 0  # pages refused at submit, recorded as failures
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    not_submitted: list[str] = field(default_factory=list)  # sources of pages not in Redis (broker down)
    broker_error: str | None = None  # why the submission stopped early, if it did

    @property
    def skipped(self) -> int:
        return sum(self.skipped_reasons.values())

    @property
    def complete(self) -> bool:
        return self.broker_error is None


class SubmitIncomplete(RuntimeError):
    """Redis stayed unreachable: ``summary.not_submitted`` lists the pages that were not submitted."""

    def __init__(self, summary: SubmitSummary) -> None:
        self.summary = summary
        shown = ", ".join(summary.not_submitted[:5]) + (", ..." if len(summary.not_submitted) > 5 else "")
        super().__init__(
            f"batch {summary.batch_id}: Redis unreachable ({summary.broker_error}); submitted {summary.submitted:,} "
            f"pages, NOT submitted {len(summary.not_submitted):,}: {shown}"
        )


def _reason_group(reason: str) -> str:
    return reason.split(":")[0].split(" (")[0]


def page_signature(message: dict):
    """The message of one page: ``parse | enrich | index``.

    Each task publishes the chain's next step itself, before acknowledging its own message
    (``workers/tasks.py``).
    """
    return chain(
        app.signature("gleaner.parse", args=(message,)),
        app.signature("gleaner.enrich"),
        app.signature("gleaner.index"),
    )



def _with_broker(fn: Callable[[], T], wait_s: float) -> T:
    deadline = time.monotonic() + wait_s
    delay = 0.2
    while True:
        try:
            return fn()
        except BROKER_ERRORS:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def submit(
    paths: Iterable[str],
    *,
    settings: Settings,
    progress: ProgressStore,
    failures: FailureStore,
    collection: str | None = None,
    batch_id: str | None = None,
    on_page: Callable[[SubmitSummary], None] | None = None,
    raise_incomplete: bool = False,
) -> SubmitSummary:
    """Enqueue every page of ``paths``; refused pages go to the failure store (stage ``submit``).

    Raises ``SubmitIncomplete`` (carrying the summary) if Redis stayed unreachable for longer than
    ``GLEANER_BROKER_WAIT_S``; with ``raise_incomplete=False`` the summary says so instead.
    """
    wait_s = get_settings().broker_wait_s
    policy = broker_retry_policy(wait_s)
    summary = SubmitSummary(batch_id=batch_id or new_batch_id())
    pending = 0  # submitted pages not yet added to the batch's progress
    items: Iterator[Item] = iter(iter_inputs(paths, max_bytes=settings.max_page_bytes, collection=collection))
    try:
        with app.producer_or_acquire() as producer:
            for item in items:
                if isinstance(item, Skipped):
                    summary.skipped_reasons[_reason_group(item.reason)] += 1
                    if item.is_page:
                        _with_broker(lambda item=item: failures.record(
                            stage="submit", reason=item.reason, error="refused_at_submit", source=item.source,
                            url=item.url, collection=collection, batch_id=summary.batch_id, payload=None), wait_s)
                        summary.refused += 1
                    continue
                try:
                    _send(item, summary, producer, settings.max_page_bytes, policy)
                except BROKER_ERRORS:
                    summary.not_submitted.append(item.source)
                    raise
                pending += 1
                if pending >= _PROGRESS_EVERY:
                    _with_broker(lambda n=pending: progress.add_submitted(summary.batch_id, n), wait_s)
                    pending = 0
                    if on_page:
                        on_page(summary)
        if pending:
            _with_broker(lambda: progress.add_submitted(summary.batch_id, pending), wait_s)
            pending = 0
        _with_broker(lambda: progress.close_submission(summary.batch_id, collection), wait_s)
    except BROKER_ERRORS as exc:
        summary.broker_error = f"{type(exc).__name__}: {exc}"[:300]
        log.error("broker unreachable, submission stopped", extra={"batch_id": summary.batch_id})
        # Every page still to come was not submitted; list them (reading them, not sending them).
        for item in items:
            if isinstance(item, RawPage) or item.is_page:
                summary.not_submitted.append(item.source)
        if pending:  # in Redis, but not counted in the batch's progress: best effort
            try:
                progress.add_submitted(summary.batch_id, pending)
            except BROKER_ERRORS:
                pass
    if on_page:
        on_page(summary)
    if summary.broker_error and raise_incomplete:
        raise SubmitIncomplete(summary)
    return summary


def _send(page: RawPage, summary: SubmitSummary, producer, max_bytes: int, policy: dict) -> None:
    message = pack_page(page, batch_id=summary.batch_id, seq=summary.submitted, max_bytes=max_bytes)
    page_signature(message.model_dump(mode="json", exclude_none=True)).apply_async(
        producer=producer, retry=True, retry_policy=policy)
    summary.submitted += 1
    summary.bytes_submitted += len(page.content)
