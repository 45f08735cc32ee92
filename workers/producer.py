"""The producer: reads inputs and sends pages as the chain ``parse | enrich | index``.

Pages travel in bundles: one message carries up to ``GLEANER_BUNDLE_PAGES`` pages (or
``GLEANER_BUNDLE_BYTES`` of compressed content), so the cost of a Celery message and its Redis
round trips is paid once per bundle, not per page; every page keeps its own outcome. A bundle is
sent when it is full, when its oldest page has waited ``GLEANER_BUNDLE_WAIT_S`` (checked as pages
arrive) and at the end of the input. The producer waits while the parse queue holds more than
``GLEANER_MAX_QUEUED_BUNDLES`` messages (backpressure). Each stage publishes the next one itself
(``workers/tasks.py``).

If Redis becomes unreachable while submitting, the producer waits for it
(``GLEANER_BROKER_WAIT_S``); if it does not come back the producer stops and reports exactly which
pages it did not submit (``SubmitSummary.not_submitted``, or ``SubmitIncomplete`` with
``raise_incomplete=True``): every page it counts as submitted is in Redis.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
_ROOM_EVERY = 8  # bundles between two looks at the parse queue's depth (backpressure)
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
    bundles: int = 0  # messages sent
    waited_s: float = 0.0  # time spent waiting for room in the parse queue (GLEANER_MAX_QUEUED_BUNDLES)
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


def bundle_signature(messages: list[dict]):
    """The message of a bundle of pages: ``parse | enrich | index``.

    Each task publishes the chain's next step itself, before acknowledging its own message
    (``workers/tasks.py``).
    """
    return chain(
        app.signature("gleaner.parse", args=(messages,)),
        app.signature("gleaner.enrich"),
        app.signature("gleaner.index"),
    )

def _packed(page: RawPage, batch_id: str, seq: int, max_bytes: int) -> dict:
    return pack_page(page, batch_id=batch_id, seq=seq, max_bytes=max_bytes).model_dump(mode="json", exclude_none=True)


class _PackAhead:
    """Compresses pages on a background thread, up to ``depth`` pages ahead of the publisher.

    zstd releases the GIL, so compressing a page overlaps with reading the next ones and
    publishing the previous bundle (two cores instead of one for the producer's biggest cost).
    Pages come out in the order they went in.
    """

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gleaner-pack")
        self._queue: deque[tuple[Future[dict], str, int]] = deque()

    def put(self, page: RawPage, *, batch_id: str, seq: int, max_bytes: int) -> None:
        future = self._pool.submit(_packed, page, batch_id, seq, max_bytes)
        self._queue.append((future, page.source, len(page.content)))

    def ready(self, *, drain: bool = False) -> Iterator[tuple[dict, str, int]]:
        """Packed pages, oldest first: those beyond ``depth`` (all of them with ``drain``)."""
        while self._queue and (drain or len(self._queue) > self.depth):
            future, source, size = self._queue.popleft()
            yield future.result(), source, size

    def sources(self) -> list[str]:
        return [source for _, source, _ in self._queue]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Bundle:
    """Pages packed and waiting to be sent together."""

    messages: list[dict] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    raw_bytes: int = 0
    packed_bytes: int = 0
    opened_at: float = 0.0

    def add(self, message: dict, source: str, raw_bytes: int) -> None:
        if not self.messages:
            self.opened_at = time.monotonic()
        self.messages.append(message)
        self.sources.append(source)
        self.raw_bytes += raw_bytes
        self.packed_bytes += len(message["content_z"])

    def full(self, settings: Settings) -> bool:
        return (len(self.messages) >= settings.bundle_pages or self.packed_bytes >= settings.bundle_bytes
                or time.monotonic() - self.opened_at >= settings.bundle_wait_s)


def wait_for_room(queue_depth: Callable[[], int], limit: int, *, poll_s: float = 0.5,
                  on_wait: Callable[[int], None] | None = None) -> float:
    """Backpressure: block while ``queue_depth()`` is above ``limit`` (0: no limit). Returns the
    seconds waited; ``on_wait`` hears the depth each time the producer has to wait."""
    if limit <= 0:
        return 0.0
    started = time.monotonic()
    while (depth := queue_depth()) > limit:
        if on_wait:
            on_wait(depth)
        time.sleep(poll_s)
    return time.monotonic() - started


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
    packed = 0  # pages packed so far: the next page's position in the batch
    bundle = _Bundle()
    ahead = _PackAhead(depth=settings.bundle_pages)
    items: Iterator[Item] = iter(iter_inputs(paths, max_bytes=settings.max_page_bytes, collection=collection))
    try:
        with app.producer_or_acquire() as producer:

            def send_bundle() -> None:
                nonlocal bundle, pending
                if not bundle.messages:
                    return
                # If this fails, the bundle's pages are listed as not submitted (below).
                bundle_signature(bundle.messages).apply_async(producer=producer, retry=True, retry_policy=policy)
                summary.submitted += len(bundle.messages)
                summary.bytes_submitted += bundle.raw_bytes
                pending += len(bundle.messages)
                bundle = _Bundle()
                summary.bundles += 1
                if summary.bundles % _ROOM_EVERY == 0:
                    summary.waited_s += _with_broker(lambda: wait_for_room(
                        lambda: int(progress.redis.llen("parse")), settings.max_queued_bundles,
                        on_wait=lambda depth: log.info("parse queue full, waiting", extra={"queued": depth})), wait_s)
                if pending >= _PROGRESS_EVERY:
                    _with_broker(lambda n=pending: progress.add_submitted(summary.batch_id, n), wait_s)
                    pending = 0
                    if on_page:
                        on_page(summary)

            def take_packed(*, drain: bool) -> None:
                for message, source, size in ahead.ready(drain=drain):
                    bundle.add(message, source, size)
                    if bundle.full(settings):
                        send_bundle()

            for item in items:
                if isinstance(item, Skipped):
                    summary.skipped_reasons[_reason_group(item.reason)] += 1
                    if item.is_page:
                        _with_broker(lambda item=item: failures.record(
                            stage="submit", reason=item.reason, error="refused_at_submit", source=item.source,
                            url=item.url, collection=collection, batch_id=summary.batch_id, payload=None), wait_s)
                        summary.refused += 1
                    continue
                ahead.put(item, batch_id=summary.batch_id, seq=packed, max_bytes=settings.max_page_bytes)
                packed += 1
                take_packed(drain=False)
            take_packed(drain=True)
            send_bundle()
        if pending:
            _with_broker(lambda: progress.add_submitted(summary.batch_id, pending), wait_s)
            pending = 0
        _with_broker(lambda: progress.close_submission(summary.batch_id, collection), wait_s)
    except BROKER_ERRORS as exc:
        summary.broker_error = f"{type(exc).__name__}: {exc}"[:300]
        log.error("broker unreachable, submission stopped", extra={"batch_id": summary.batch_id})
        # The bundle being filled, the pages being packed and every page still to come were not
        # submitted; list them (reading them, not sending them).
        summary.not_submitted.extend(bundle.sources)
        summary.not_submitted.extend(ahead.sources())
        for item in items:
            if isinstance(item, RawPage) or item.is_page:
                summary.not_submitted.append(item.source)
        if pending:  # in Redis, but not counted in the batch's progress: best effort
            try:
                progress.add_submitted(summary.batch_id, pending)
            except BROKER_ERRORS:
                pass
    finally:
        ahead.close()
    if on_page:
        on_page(summary)
    if summary.broker_error and raise_incomplete:
        raise SubmitIncomplete(summary)
    return summary

