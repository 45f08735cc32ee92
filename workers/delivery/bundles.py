"""Delivering one bundle through one stage on a Celery worker: every way a page can end.

A message is a bundle: a list of 1 to ``GLEANER_BUNDLE_PAGES`` pages of one stage (the producer
groups them), so the cost of a Celery message and its Redis round trips is paid once per bundle.
Every page in it still ends on its own: handed on, or recorded as failed.

A task hands its pages on to the next stage of the pipeline (``workers/pipeline.py``) itself,
before its own message is acknowledged, so a page is always in Redis somewhere until it is
indexed or recorded as failed (at-least-once). How a page can end:

* success: it goes on in the next stage's bundle (published, waiting up to
  ``GLEANER_BROKER_WAIT_S`` for Redis), then the message is acked;
* the page's fault (``PermanentPageError``, invalid message, a crash in a stage on this page, an
  index mapping error): the failure is recorded once, with the page's message of this stage so it
  can be retried, and the rest of the bundle goes on;
* a dependency's fault (``TransientError``: Elasticsearch down, 429, 5xx): the pages concerned
  are retried as a new, smaller bundle with exponential backoff and jitter, and recorded as
  ``retries_exhausted`` when the retries run out;
* the bundle comes back because its worker died or hit the hard time limit, or it hit the soft
  time limit, or the stage crashed on the bundle as a whole: a bundle of several pages is split and
  each page sent on its own (so one bad page cannot take its bundle-mates down); a single page
  that came back more than ``GLEANER_MAX_REDELIVERIES`` times is recorded as ``poison_page``;
* nothing can be written to Redis at all: the message is given back (``Reject(requeue=True)``) or,
  if even that fails, left unacknowledged for the broker's lease sweep to requeue.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from celery import Task
from celery.exceptions import Ignore, Reject, Retry, SoftTimeLimitExceeded

from workers import logs, redis_keys
from workers.config import get_settings
from workers.delivery.broker_wait import BROKER_ERRORS, broker_retry_policy, wait_for_broker
from workers.errors import TRANSIENT_ERRORS, BrokerUnavailable, PageFailure
from workers.models import PageRef, Stage, page_ref_of
from workers.pipeline import PIPELINE
from workers.runtime import failure_store, progress_store, redis_client

log = logging.getLogger("gleaner.worker")
T = TypeVar("T")
Message = dict[str, Any]

REDELIVERIES_TTL_S = 7 * 86400


@dataclass
class BundleOutcome:
    """What became of each page of a bundle at one stage."""

    done: list[tuple[Message, Any]] = field(default_factory=list)  # (message, next stage's message or None)
    failed: list[tuple[Message, PageFailure]] = field(default_factory=list)
    transient: list[tuple[Message, str]] = field(default_factory=list)  # (message, why): retry later


def as_bundle(payload: Any) -> list[Any]:
    """The pages of a task's argument: a list (a bundle), or one page as earlier versions sent it."""
    return list(payload) if isinstance(payload, list) else [payload]


def run_page(outcome: BundleOutcome, message: Message, fn: Callable[[], T]) -> T | None:
    """Run one page's part of a stage; a page's own fault becomes its failure, anything else
    (time limit, a dependency down) is the bundle's and propagates."""
    try:
        return fn()
    except (SoftTimeLimitExceeded, Retry, *TRANSIENT_ERRORS):
        raise
    except Exception as exc:
        failure = PageFailure.of(exc)
        if failure.error == "internal_error":
            with logs.page_context(page_ref_of(message)):
                log.exception("stage crashed on a page")
        outcome.failed.append((message, failure))
        return None


def _retry_delay(retries: int) -> float:
    """Exponential backoff with full jitter in [0.5, 1] of the step, capped at the backoff maximum.

    The cap (``GLEANER_RETRY_BACKOFF_MAX_S``) stays below the broker's visibility timeout, which
    is derived from it (``workers.config``): a worker waiting out a retry never loses its message.
    """
    settings = get_settings()
    return float(min(settings.retry_backoff_max_s, 2**retries) * random.uniform(0.5, 1.0))


def _page_of(message: Any, failure: PageFailure | None = None) -> PageRef:
    """The page a failure record or a log line is about. A parse message whose page is still inside
    its input record (a JSON line) has its URL and collection there: it is opened for them, for a
    page that never got through the parse stage (poison page, time limit)."""
    if failure is not None and failure.page is not None:
        return failure.page
    ref = page_ref_of(message)
    if ref.url is None and isinstance(message, dict) and message.get("record"):
        try:
            from workers.inputs.jsonl import open_record
            from workers.messages import unpack_page
            from workers.models import PageMessage

            max_bytes = get_settings().max_page_bytes
            page = open_record(unpack_page(PageMessage.model_validate(message), max_bytes=max_bytes),
                               max_bytes=max_bytes)
        except Exception:  # noqa: BLE001 - only a better failure record is at stake
            return ref
        ref = ref.model_copy(update={"url": page.url, "collection": page.collection})
    return ref


def _by_batch(pages: Sequence[PageRef]) -> dict[str | None, list[int | None]]:
    groups: dict[str | None, list[int | None]] = defaultdict(list)
    for page in pages:
        groups[page.batch_id].append(page.seq)
    return groups


def _record_failures(task: Task, stage: Stage, failed: Sequence[tuple[Message, PageFailure]],
                     redeliveries: int = 0) -> None:
    if not failed:
        return
    attempts = task.request.retries + redeliveries + 1
    pages = [_page_of(message, failure) for message, failure in failed]

    def write() -> None:
        store = failure_store()
        for (message, failure), page in zip(failed, pages, strict=True):
            store.record(stage=stage, reason=failure.reason, error=failure.error, source=page.source,
                         url=page.url, collection=page.collection, batch_id=page.batch_id,
                         payload=message if isinstance(message, dict) else {"message": repr(message)[:1000]},
                         attempts=attempts)
        for batch_id, seqs in _by_batch(pages).items():
            progress_store().finish_many(batch_id, seqs, "failed")

    wait_for_broker(write, what="record failure")
    for (_, failure), page in zip(failed, pages, strict=True):
        with logs.page_context(page):
            log.warning("page failed", extra={"stage": stage, "error": failure.error, "reason": failure.reason})


def _redelivered(task: Task) -> bool:
    info = task.request.delivery_info or {}
    return bool(info.get("redelivered"))


def _count_redelivery(task: Task) -> int:
    key = redis_keys.REDELIVERIES + str(task.request.id)

    def incr() -> int:
        pipe = redis_client().pipeline()
        pipe.incr(key)
        pipe.expire(key, REDELIVERIES_TTL_S)
        return int(pipe.execute()[0])

    return wait_for_broker(incr, what="count redelivery")


def _inject_fault(stage: Stage, messages: Sequence[Message]) -> None:
    """Test hook (``GLEANER_FAULT_INJECTION=1`` only): kill this worker process with SIGKILL when a
    page's URL or source contains the marker stored at ``gleaner:fault:kill:<stage>``."""
    marker = redis_client().get(redis_keys.FAULT_KILL + stage)
    if not marker:
        return
    wanted = marker.decode() if isinstance(marker, bytes) else str(marker)
    for message in messages:
        page = _page_of(message)
        if wanted in f"{page.url or ''} {page.source}":
            log.error("fault injection: killing this worker process", extra={"stage": stage})
            os.kill(os.getpid(), signal.SIGKILL)


def _send(route: Sequence[Task], messages: list[Any]) -> None:
    """Publish ``messages`` as one bundle to the first task of ``route`` (the stages ahead of the
    pages, in pipeline order; each hands on to the next itself), waiting for Redis if it is down."""
    task = route[0]
    try:
        task.apply_async(args=(messages,), argsrepr=f"[{len(messages)} pages]", retry=True,
                         retry_policy=broker_retry_policy(get_settings().broker_wait_s))
    except BROKER_ERRORS as exc:
        raise BrokerUnavailable(f"cannot publish to {task.name}: {exc}") from exc


def _split(task: Task, stage: Stage, messages: list[Any], next_tasks: Sequence[Task], why: str) -> None:
    """Send each page of the bundle on its own to this stage again, then ack the bundle."""
    for message in messages:
        _send((task, *next_tasks), [message])
    log.warning("bundle split into single pages", extra={"stage": stage, "pages": len(messages), "error": why})
    raise Ignore()


def deliver(
    task: Task, stage: Stage, payload: Any, work: Callable[[list[Any]], BundleOutcome],
    next_tasks: Sequence[Task] = (),
) -> BundleOutcome | None:
    """Run one stage for a bundle, turning every way a page can end into retry, failure or hand-on.
    ``next_tasks``: the tasks of the stages after this one, in pipeline order."""
    # A chain sent by an earlier version is not followed: each stage hands on to the next itself.
    task.request.chain = None
    messages = as_bundle(payload)
    if not messages:
        log.warning("empty bundle acknowledged", extra={"stage": stage})
        return None
    try:
        return _run_guarded(task, stage, messages, work, next_tasks)
    except (Ignore, Retry, Reject):
        raise
    except (BrokerUnavailable, *BROKER_ERRORS, SoftTimeLimitExceeded) as exc:
        # Nothing could be written: give the message back (if Redis is still down, the ack state
        # stays in Redis and the consumer lease requeues it once this consumer is gone).
        log.error("cannot complete the bundle, giving its message back",
                  extra={"stage": stage, "error": repr(exc)[:300]})
        raise Reject(repr(exc)[:300], requeue=True) from exc


def _run_guarded(
    task: Task, stage: Stage, messages: list[Any], work: Callable[[list[Any]], BundleOutcome],
    next_tasks: Sequence[Task],
) -> BundleOutcome:
    settings = get_settings()
    redelivered = _redelivered(task)
    if redelivered and len(messages) > 1:
        _split(task, stage, messages, next_tasks, "the bundle came back (its worker died or timed out)")
    redeliveries = _count_redelivery(task) if redelivered else 0
    if redeliveries > settings.max_redeliveries:
        _record_failures(task, stage, [(m, PageFailure(
            "poison_page",
            f"the {stage} worker died or timed out {redeliveries} times with this page "
            f"(limit GLEANER_MAX_REDELIVERIES={settings.max_redeliveries})")) for m in messages], redeliveries)
        raise Ignore()
    if settings.fault_injection:
        _inject_fault(stage, messages)

    started = time.perf_counter()
    try:
        outcome = work(messages)
    except Retry:
        raise
    except SoftTimeLimitExceeded as exc:
        if len(messages) > 1:
            _split(task, stage, messages, next_tasks, "the bundle hit the soft time limit")
        _record_failures(task, stage, [(m, PageFailure("timeout", f"{stage} took longer than the time limit"))
                                       for m in messages], redeliveries)
        raise Ignore() from exc
    except TRANSIENT_ERRORS as exc:
        outcome = BundleOutcome(transient=[(m, f"{type(exc).__name__}: {exc}"[:1000]) for m in messages])
    except Exception as exc:
        if len(messages) > 1:
            _split(task, stage, messages, next_tasks, f"{type(exc).__name__}: {exc}"[:300])
        with logs.page_context(_page_of(messages[0])):
            log.exception("stage crashed", extra={"stage": stage})
        _record_failures(task, stage, [(m, PageFailure.of(exc)) for m in messages], redeliveries)
        raise Ignore() from exc

    _record_failures(task, stage, outcome.failed, redeliveries)
    if next_tasks and outcome.done:
        _send(next_tasks, [result for _, result in outcome.done])
    _after_success(task, stage, [message for message, _ in outcome.done], redelivered)
    log.info("bundle done", extra={
        "stage": stage, "pages": len(messages), "done": len(outcome.done), "failed": len(outcome.failed),
        "retried": len(outcome.transient), "batch_id": page_ref_of(messages[0]).batch_id,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    if outcome.transient:
        _retry(task, stage, outcome.transient, redeliveries)
    return outcome


def _retry(task: Task, stage: Stage, transient: list[tuple[Message, str]], redeliveries: int) -> None:
    """Send the pages a dependency failed back to this stage later, as a bundle of their own."""
    settings = get_settings()
    messages = [message for message, _ in transient]
    why = transient[0][1]
    if task.request.retries >= settings.max_retries:
        _record_failures(task, stage, [(m, PageFailure("retries_exhausted", reason)) for m, reason in transient],
                         redeliveries)
        return
    countdown = _retry_delay(task.request.retries)
    log.info("retrying", extra={"stage": stage, "pages": len(messages), "error": why[:300],
                                "countdown_s": round(countdown, 2)})
    # The task's own max_retries is None (unlimited): the limit is ours, so that running out
    # records a failure instead of Celery failing the task and dropping the pages. Celery turns a
    # retry it cannot publish into Reject(requeue=False), which would drop them: give the message
    # back instead.
    try:
        raise task.retry(args=(messages,), countdown=countdown,
                         retry_policy=broker_retry_policy(settings.broker_wait_s))
    except Reject as rej:
        raise BrokerUnavailable(f"cannot publish the retry: {rej.reason}") from None


def _after_success(task: Task, stage: Stage, done: list[Message], redelivered: bool) -> None:
    """Counters and progress for the pages done; after the last stage, they are finished."""
    if not done:
        return
    last = stage in PIPELINE and PIPELINE[stage].next is None
    pages = [page_ref_of(message) for message in done]
    groups = _by_batch(pages)

    def write() -> None:
        store = progress_store()
        for batch_id, seqs in groups.items():
            store.stage_done(stage, batch_id, len(seqs))
            if last:
                store.finish_many(batch_id, seqs, "indexed")
        if last and (redelivered or task.request.retries):
            # An earlier attempt of these pages may have been recorded as failed: indexed now.
            pipe = redis_client().pipeline()
            for page in pages:
                failure_store().forget(page.source, page.url, pipe=pipe)
            pipe.execute()

    try:
        wait_for_broker(write, what="progress", wait_s=None if last else 5)
    except BrokerUnavailable:
        if last:
            # The documents are in Elasticsearch; without Redis we cannot say so. Run them again.
            raise
        log.warning("stage counters not updated (Redis unreachable)", extra={"stage": stage})


_run = deliver  # the name the delivery tests in tests/faults/test_delivery_config.py drive
