"""The producer: reads inputs and sends their pages to the first stage of the pipeline.

Pages travel in bundles: one message carries up to ``GLEANER_BUNDLE_PAGES`` pages (or
``GLEANER_BUNDLE_BYTES`` of compressed content), so the cost of a Celery message and its Redis
round trips is paid once per bundle, not per page; every page keeps its own outcome. A bundle is
sent when it is full, when its oldest page has waited ``GLEANER_BUNDLE_WAIT_S`` (checked as pages
arrive) and at the end of the input. The producer waits while the first queue holds more than
``GLEANER_MAX_QUEUED_BUNDLES`` messages (backpressure). Each stage hands its pages on to the next
itself (``workers/delivery/bundles.py``).

The main thread only reads; pages are packed and published, in input order, on other threads
(``workers/delivery/publisher.py``), so reading goes on while a bundle travels to Redis.

If Redis becomes unreachable while submitting, the producer waits for it
(``GLEANER_BROKER_WAIT_S``); if it does not come back the producer stops and reports exactly which
pages it did not submit (``SubmitSummary.not_submitted``): every page it counts as submitted is in
Redis.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TypeVar

from workers.config import Settings
from workers.delivery.broker_wait import BROKER_ERRORS, broker_retry_policy, wait_for_broker
from workers.delivery.publisher import Group, Message, OrderedPublisher, Packed, pack_group
from workers.errors import BrokerUnavailable
from workers.inputs import Item, Skipped, iter_inputs
from workers.models import RawPage
from workers.pipeline import PIPELINE, task_name
from workers.store.failures import FailureStore
from workers.store.progress import ProgressStore

log = logging.getLogger("gleaner.producer")
PROGRESS_EVERY = 500  # pages submitted between two updates of the batch's progress
ROOM_EVERY = 8  # groups between two looks at the first queue's depth (backpressure)
_UNREACHABLE: tuple[type[BaseException], ...] = (BrokerUnavailable, *BROKER_ERRORS)
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
    waited_s: float = 0.0  # time spent waiting for room in the first queue (GLEANER_MAX_QUEUED_BUNDLES)
    broker_error: str | None = None  # why the submission stopped early, if it did

    @property
    def skipped(self) -> int:
        return sum(self.skipped_reasons.values())

    @property
    def complete(self) -> bool:
        return self.broker_error is None


def _reason_group(reason: str) -> str:
    """What skipped inputs are counted by: a reason without its details."""
    return reason.split(":")[0].split(" (")[0].split(";")[0]


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


def submit(
    paths: Iterable[str],
    *,
    settings: Settings,
    progress: ProgressStore,
    failures: FailureStore,
    collection: str | None = None,
    batch_id: str | None = None,
    on_page: Callable[[SubmitSummary], None] | None = None,
    queue_depth: Callable[[], int] | None = None,
) -> SubmitSummary:
    """Enqueue every page of ``paths``; refused pages go to the failure store (stage ``submit``).

    If Redis stays unreachable for longer than ``GLEANER_BROKER_WAIT_S`` the submission stops: the
    summary says why (``broker_error``) and lists the pages not submitted. ``queue_depth`` gives
    the first queue's depth for backpressure (default: asked over Celery's broker connection).
    """
    if queue_depth is None:
        from workers.delivery.queues import queued

        first = PIPELINE.first.name

        def queue_depth() -> int:
            return queued(first)

    submission = _Submission(settings, progress, failures, collection, batch_id or new_batch_id(), on_page,
                             queue_depth)
    return submission.run(iter(iter_inputs(paths, max_bytes=settings.max_page_bytes, collection=collection)))


class _Submission:
    """One run of ``submit``: reads, groups, hands groups to the publisher and counts what it sent."""

    def __init__(self, settings: Settings, progress: ProgressStore, failures: FailureStore, collection: str | None,
                 batch_id: str, on_page: Callable[[SubmitSummary], None] | None,
                 queue_depth: Callable[[], int]) -> None:
        self.settings, self.progress, self.failures = settings, progress, failures
        self.collection, self.on_page, self.queue_depth = collection, on_page, queue_depth
        self.summary = SubmitSummary(batch_id=batch_id)
        self.group = Group()
        self.read = 0  # pages read so far: the next page's position in the batch
        self.groups_sent = 0
        self.uncounted = 0  # submitted pages not yet added to the batch's progress
        # When Redis is gone: the sources of pages handed to the publisher but not published, in
        # order, then of those read but not handed to it yet.
        self.unpublished: list[str] = []
        self.unread: list[str] = []

    def run(self, items: Iterator[Item]) -> SubmitSummary:
        from workers.delivery.app import app

        policy = broker_retry_policy(self.settings.broker_wait_s)
        first = task_name(PIPELINE.first.name)
        with app.producer_or_acquire() as producer:

            def publish(bundle: list[Message]) -> None:
                app.send_task(first, args=(bundle,), producer=producer, retry=True, retry_policy=policy,
                              argsrepr=f"[{len(bundle)} pages]")

            publisher = OrderedPublisher(publish, pack=self._pack)
            try:
                self._read(items, publisher)
                self._send_group(publisher)
                self._count(publisher.finished(wait=True))
                if self.summary.broker_error is None:
                    self._add_uncounted()
                    self._with_broker(lambda: self.progress.close_submission(self.summary.batch_id, self.collection))
            except _UNREACHABLE as exc:
                self._stopped(exc)
                self.unread.extend(self.group.sources)
                self._count(publisher.finished(wait=True))
            finally:
                publisher.close()
        if self.summary.broker_error:
            self._list_not_submitted(items)
        if self.on_page:
            self.on_page(self.summary)
        return self.summary

    def _read(self, items: Iterator[Item], publisher: OrderedPublisher) -> None:
        for item in items:
            if publisher.failed is not None:  # stop reading: the rest is listed as not submitted
                self.unread.extend(self.group.sources)
                self.group = Group()
                if isinstance(item, RawPage) or item.is_page:
                    self.unread.append(item.source)
                return
            if isinstance(item, Skipped):
                self._skip(item)
                continue
            self.group.add(item, self.read)
            self.read += 1
            if self.group.full(self.settings):
                self._send_group(publisher)

    def _skip(self, item: Skipped) -> None:
        self.summary.skipped_reasons[_reason_group(item.reason)] += 1
        if item.is_page:
            self._with_broker(lambda: self.failures.record(
                stage="submit", reason=item.reason, error="refused_at_submit", source=item.source, url=item.url,
                collection=self.collection, batch_id=self.summary.batch_id, payload=None))
            self.summary.refused += 1

    def _pack(self, group: Group) -> Packed:
        return pack_group(group, batch_id=self.summary.batch_id, max_page_bytes=self.settings.max_page_bytes,
                          bundle_bytes=self.settings.bundle_bytes)

    def _send_group(self, publisher: OrderedPublisher) -> None:
        if not self.group.pages:
            return
        publisher.send(self.group)
        self.group = Group()
        self.groups_sent += 1
        self._count(publisher.finished())
        if self.groups_sent % ROOM_EVERY == 0:
            self.summary.waited_s += self._with_broker(lambda: wait_for_room(
                self.queue_depth, self.settings.max_queued_bundles,
                on_wait=lambda depth: log.info("first queue full, waiting", extra={"queued": depth})))

    def _count(self, finished: Iterable[tuple[Group, Future[Packed]]]) -> None:
        """Adds the published pages of finished groups to the summary and the batch's progress,
        and lists the others."""
        summary = self.summary
        for group, future in finished:
            packed = future.result()  # raises only if packing failed: a bug, not the input
            if packed.error is not None:
                if not isinstance(packed.error, BROKER_ERRORS):
                    raise packed.error
                self._stopped(packed.error)
            sent = packed.sent_pages
            self.unpublished.extend(group.sources[sent:])
            summary.submitted += sent
            summary.bytes_submitted += sum(len(page.content) for page in group.pages[:sent])
            summary.bundles += packed.sent_bundles
            self.uncounted += sent
            if self.uncounted >= PROGRESS_EVERY and summary.broker_error is None:
                self._add_uncounted()
                if self.on_page:
                    self.on_page(summary)

    def _add_uncounted(self) -> None:
        if self.uncounted:
            n, self.uncounted = self.uncounted, 0
            self._with_broker(lambda: self.progress.add_submitted(self.summary.batch_id, n))

    def _with_broker(self, fn: Callable[[], T]) -> T:
        return wait_for_broker(fn, what="submit", wait_s=self.settings.broker_wait_s)

    def _stopped(self, exc: BaseException) -> None:
        self.summary.broker_error = self.summary.broker_error or f"{type(exc).__name__}: {exc}"[:300]

    def _list_not_submitted(self, items: Iterator[Item]) -> None:
        """Pages read but not published, then every page still to come (read, not sent)."""
        log.error("broker unreachable, submission stopped", extra={"batch_id": self.summary.batch_id})
        self.summary.not_submitted.extend(self.unpublished + self.unread)
        self.summary.not_submitted.extend(
            item.source for item in items if isinstance(item, RawPage) or item.is_page)
        if self.uncounted:  # in Redis, but not counted in the batch's progress: best effort
            try:
                self.progress.add_submitted(self.summary.batch_id, self.uncounted)
            except BROKER_ERRORS:
                pass
