"""The producer: reads inputs and sends pages as the chain ``parse | enrich | index``.

Pages travel in bundles: one message carries up to ``GLEANER_BUNDLE_PAGES`` pages (or
``GLEANER_BUNDLE_BYTES`` of compressed content), so the cost of a Celery message and its Redis
round trips is paid once per bundle, not per page; every page keeps its own outcome. A bundle is
sent when it is full, when its oldest page has waited ``GLEANER_BUNDLE_WAIT_S`` (checked as pages
arrive) and at the end of the input. The producer waits while the parse queue holds more than
``GLEANER_MAX_QUEUED_BUNDLES`` messages (backpressure). Each stage publishes the next one itself
(``workers/tasks.py``).

The main thread only reads; pages are packed (zstd, base64) on two threads and published, in
input order, on a third (``_Sender``), so reading goes on while a bundle travels to Redis.

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
_ROOM_EVERY = 8  # groups between two looks at the parse queue's depth (backpressure)
_IN_FLIGHT = 4  # groups read but not yet published, at most (beyond those being packed)
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


@dataclass
class _Group:
    """Raw pages read and waiting to be packed into one bundle (or more, see ``pack_group``)."""

    pages: list[RawPage] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    raw_bytes: int = 0
    opened_at: float = 0.0

    def add(self, page: RawPage, seq: int) -> None:
        if not self.pages:
            self.opened_at = time.monotonic()
        self.pages.append(page)
        self.seqs.append(seq)
        self.raw_bytes += len(page.content)

    def full(self, settings: Settings) -> bool:
        # Compressed sizes are known only once packed; raw content is capped at four times the
        # bundle's byte budget, which bounds the producer's memory.
        return (len(self.pages) >= settings.bundle_pages or self.raw_bytes >= 4 * settings.bundle_bytes
                or time.monotonic() - self.opened_at >= settings.bundle_wait_s)

    @property
    def sources(self) -> list[str]:
        return [page.source for page in self.pages]


@dataclass
class _Packed:
    """A group packed into messages of at most ``GLEANER_BUNDLE_BYTES`` of compressed content."""

    bundles: list[list[dict]]
    sent_pages: int = 0  # how many of the group's pages were published (a prefix of them)
    sent_bundles: int = 0
    error: BaseException | None = None  # why publishing stopped, if it did


def pack_group(group: _Group, *, batch_id: str, max_page_bytes: int, bundle_bytes: int) -> _Packed:
    bundles: list[list[dict]] = [[]]
    size = 0
    for page, seq in zip(group.pages, group.seqs, strict=True):
        message = _packed(page, batch_id, seq, max_page_bytes)
        if bundles[-1] and size + len(message["content_z"]) > bundle_bytes:
            bundles.append([])
            size = 0
        bundles[-1].append(message)
        size += len(message["content_z"])
    return _Packed(bundles=bundles)


class _Sender:
    """Packs groups on ``pack_threads`` threads and publishes them, in order, on one more.

    zstd and socket writes release the GIL, so packing and publishing overlap with reading the
    next pages; the main thread only reads. At most ``max_in_flight`` groups are held. Publishing
    is in input order and stops at the first group that cannot be published, so the pages
    submitted are always a prefix of the input.
    """

    def __init__(self, publish: Callable[[list[dict]], None], *, pack: Callable[[_Group], _Packed],
                 pack_threads: int = 2, max_in_flight: int = _IN_FLIGHT) -> None:
        self._publish, self._pack = publish, pack
        self._packers = ThreadPoolExecutor(max_workers=pack_threads, thread_name_prefix="gleaner-pack")
        self._publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gleaner-publish")
        self._in_flight: deque[tuple[_Group, Future[_Packed]]] = deque()
        self.max_in_flight = max_in_flight
        self.failed: BaseException | None = None

    def send(self, group: _Group) -> None:
        packing = self._packers.submit(self._pack, group)
        self._in_flight.append((group, self._publisher.submit(self._publish_packed, packing)))

    def _publish_packed(self, packing: Future[_Packed]) -> _Packed:
        """Publishes the group's bundles in order, up to the first that fails; none once a group
        has failed."""
        try:
            packed = packing.result()
        except BaseException as exc:
            self.failed = self.failed or exc
            raise
        for i, bundle in enumerate(packed.bundles):
            if self.failed is not None:
                break
            try:
                self._publish(bundle)
            except Exception as exc:  # noqa: BLE001 - handed to the main thread with the group
                self.failed = packed.error = exc
                break
            packed.sent_pages += len(bundle)
            packed.sent_bundles += 1
            packed.bundles[i] = []  # published: drop the content early
        return packed

    def finished(self, *, wait: bool = False) -> Iterator[tuple[_Group, Future[_Packed]]]:
        """Groups whose publishing ended, oldest first: those beyond ``max_in_flight`` (all of them
        with ``wait``) and any already done."""
        while self._in_flight and (wait or len(self._in_flight) > self.max_in_flight or self._in_flight[0][1].done()):
            group, future = self._in_flight.popleft()
            future.exception()  # waits
            yield group, future

    def close(self) -> None:
        self._packers.shutdown(wait=True, cancel_futures=True)
        self._publisher.shutdown(wait=True, cancel_futures=True)


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
    read = 0  # pages read so far: the next page's position in the batch
    groups_sent = 0
    group = _Group()
    items: Iterator[Item] = iter(iter_inputs(paths, max_bytes=settings.max_page_bytes, collection=collection))
    unsent: list[str] = []  # sources of pages in groups that were not published, in order
    unread: list[str] = []  # then those read but not yet handed to the sender

    def pack(g: _Group) -> _Packed:
        return pack_group(g, batch_id=summary.batch_id, max_page_bytes=settings.max_page_bytes,
                          bundle_bytes=settings.bundle_bytes)

    def count(finished: Iterable[tuple[_Group, Future[_Packed]]]) -> None:
        """Adds the published pages of finished groups to the summary and the batch's progress,
        and lists the others."""
        nonlocal pending
        for done, future in finished:
            packed = future.result()  # raises only if packing failed: a bug, not the input
            if packed.error is not None:
                if not isinstance(packed.error, BROKER_ERRORS):
                    raise packed.error
                summary.broker_error = summary.broker_error or f"{type(packed.error).__name__}: {packed.error}"[:300]
            sent = packed.sent_pages
            unsent.extend(done.sources[sent:])
            summary.submitted += sent
            summary.bytes_submitted += sum(len(page.content) for page in done.pages[:sent])
            summary.bundles += packed.sent_bundles
            pending += sent
            if pending >= _PROGRESS_EVERY and summary.broker_error is None:
                _with_broker(lambda n=pending: progress.add_submitted(summary.batch_id, n), wait_s)
                pending = 0
                if on_page:
                    on_page(summary)

    with app.producer_or_acquire() as producer:

        def publish(bundle: list[dict]) -> None:
            bundle_signature(bundle).apply_async(producer=producer, retry=True, retry_policy=policy,
                                                 argsrepr=f"[{len(bundle)} pages]")

        sender = _Sender(publish, pack=pack)
        try:

            def send_group() -> None:
                nonlocal group, groups_sent
                if not group.pages:
                    return
                sender.send(group)
                group = _Group()
                groups_sent += 1
                count(sender.finished())
                if groups_sent % _ROOM_EVERY == 0:
                    summary.waited_s += _with_broker(lambda: wait_for_room(
                        lambda: int(progress.redis.llen("parse")), settings.max_queued_bundles,
                        on_wait=lambda depth: log.info("parse queue full, waiting", extra={"queued": depth})),
                        wait_s)

            for item in items:
                if sender.failed is not None:
                    unread.extend(group.sources)
                    group = _Group()
                    if isinstance(item, RawPage) or item.is_page:
                        unread.append(item.source)
                    break
                if isinstance(item, Skipped):
                    summary.skipped_reasons[_reason_group(item.reason)] += 1
                    if item.is_page:
                        _with_broker(lambda item=item: failures.record(
                            stage="submit", reason=item.reason, error="refused_at_submit", source=item.source,
                            url=item.url, collection=collection, batch_id=summary.batch_id, payload=None), wait_s)
                        summary.refused += 1
                    continue
                group.add(item, read)
                read += 1
                if group.full(settings):
                    send_group()
            send_group()
            count(sender.finished(wait=True))
            if summary.broker_error is None:
                if pending:
                    _with_broker(lambda: progress.add_submitted(summary.batch_id, pending), wait_s)
                    pending = 0
                _with_broker(lambda: progress.close_submission(summary.batch_id, collection), wait_s)
        except BROKER_ERRORS as exc:
            summary.broker_error = summary.broker_error or f"{type(exc).__name__}: {exc}"[:300]
            unread.extend(group.sources)
            count(sender.finished(wait=True))
        finally:
            sender.close()
    if summary.broker_error:
        log.error("broker unreachable, submission stopped", extra={"batch_id": summary.batch_id})
        # Pages read but not published, then every page still to come (reading them, not sending them).
        summary.not_submitted.extend(unsent + unread)
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
