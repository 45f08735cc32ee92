"""Celery tasks: decode the message, call the stage, hand on or record the failure.

Each task publishes the next stage's message itself (``parse`` -> ``enrich`` -> ``index``) before its
own message is acknowledged, so a page is always in Redis somewhere until it is indexed or recorded
as failed (at-least-once). Pages travel as a Celery chain (DESIGN.md); the task takes the chain's
next step over from Celery, which would publish it only after the ack. How a task can end:

* success: the next stage's message is published (waiting up to ``GLEANER_BROKER_WAIT_S`` for
  Redis), then the message is acked;
* the page's fault (``PermanentPageError``, time limit, invalid message, a crash in a stage): the
  failure is recorded once, with the stage's message so it can be retried, and the message acked;
* a dependency's fault (Elasticsearch, Redis, timeouts): retried with exponential backoff and
  jitter, and recorded as ``retries_exhausted`` when the retries run out;
* redelivered more than ``GLEANER_MAX_REDELIVERIES`` times (each time the worker died with it):
  recorded as ``poison_page`` instead of run again;
* nothing can be written to Redis at all: the message is given back (``Reject(requeue=True)``) or,
  if even that fails, left unacknowledged for the broker's lease sweep to requeue.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from celery import Task, chain
from celery.exceptions import Ignore, Reject, Retry, SoftTimeLimitExceeded
from elasticsearch import ApiError, TransportError
from kombu.exceptions import OperationalError
from pydantic import ValidationError
from redis.exceptions import RedisError

from workers.celery_app import app, broker_retry_policy
from workers.config import get_settings
from workers.messages import unpack_page
from workers.models import IndexMessage, PageMessage, ParsedPage, Stage
from workers.runtime import failure_store, index_batcher, ner_batcher, ner_model, progress_store, redis_client
from workers.stages.assemble import assemble_document
from workers.stages.entities import EntityInput, ner_model_version
from workers.stages.errors import PermanentPageError
from workers.stages.parse import ParseLimits, parse_page

log = logging.getLogger("gleaner.worker")
T = TypeVar("T")

TRANSIENT = (TransportError, RedisError, ConnectionError, TimeoutError)
BROKER_ERRORS = (RedisError, OperationalError, ConnectionError, TimeoutError, OSError)
REDELIVERIES_KEY = "gleaner:redeliveries:"  # + task id: times this stage's message came back
REDELIVERIES_TTL_S = 7 * 86400
FAULT_KEY = "gleaner:fault:kill:"  # + stage: test hook, see _inject_fault


class TransientStageError(Exception):
    """Worth retrying: the stage's dependencies failed, not the page."""


class BrokerUnavailable(Exception):
    """Redis could not be reached for longer than ``GLEANER_BROKER_WAIT_S``."""


def _retry_delay(retries: int) -> float:
    """Exponential backoff with full jitter in [0.5, 1] of the step, capped at the backoff maximum.

    The cap (``GLEANER_RETRY_BACKOFF_MAX_S``) stays below the broker's visibility timeout, which
    is derived from it (``workers.config``): a worker waiting out a retry never loses its message.
    """
    settings = get_settings()
    return min(settings.retry_backoff_max_s, 2**retries) * random.uniform(0.5, 1.0)


def with_redis(fn: Callable[[], T], *, what: str, wait_s: float | None = None) -> T:
    """Run a Redis operation, retrying while Redis is unreachable for up to ``wait_s`` seconds."""
    deadline = time.monotonic() + (get_settings().broker_wait_s if wait_s is None else wait_s)
    delay = 0.2
    while True:
        try:
            return fn()
        except BROKER_ERRORS as exc:
            if time.monotonic() + delay > deadline:
                raise BrokerUnavailable(f"{what}: Redis unreachable: {exc}") from exc
            log.warning("redis unreachable, retrying", extra={"error": f"{what}: {exc}"[:300]})
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _attempts(task: Task, redeliveries: int) -> int:
    return task.request.retries + redeliveries + 1


def _record_failure(
    task: Task, stage: Stage, error: str, reason: str, message: dict[str, Any], *, source: str, url: str | None,
    collection: str | None, batch_id: str | None, seq: int | None, redeliveries: int = 0,
) -> None:
    def write() -> None:
        failure_store().record(
            stage=stage, reason=reason, error=error, source=source, url=url, collection=collection,
            batch_id=batch_id, payload=message, attempts=_attempts(task, redeliveries),
        )
        progress_store().finish(batch_id, seq, "failed")

    with_redis(write, what="record failure")
    log.warning("page failed", extra={"stage": stage, "source": source, "url": url, "error": error, "reason": reason})


def _redelivered(task: Task) -> bool:
    info = task.request.delivery_info or {}
    return bool(info.get("redelivered"))


def _count_redelivery(task: Task) -> int:
    key = REDELIVERIES_KEY + str(task.request.id)

    def incr() -> int:
        pipe = redis_client().pipeline()
        pipe.incr(key)
        pipe.expire(key, REDELIVERIES_TTL_S)
        return int(pipe.execute()[0])

    return with_redis(incr, what="count redelivery")


def _inject_fault(stage: Stage, meta: dict[str, Any]) -> None:
    """Test hook (``GLEANER_FAULT_INJECTION=1`` only): kill this worker process with SIGKILL when the
    page's URL or source contains the marker stored at ``gleaner:fault:kill:<stage>``."""
    marker = redis_client().get(FAULT_KEY + stage)
    if marker and marker.decode() in f"{meta.get('url') or ''} {meta.get('source') or ''}":
        log.error("fault injection: killing this worker process", extra={"stage": stage})
        os.kill(os.getpid(), signal.SIGKILL)


def _send_next(next_tasks: tuple[Task, ...], result: dict[str, Any]) -> None:
    """Publish the next stage's message, waiting for Redis if it is down.

    It goes out as the chain of the remaining stages, the format every page message has.
    """
    first, *rest = next_tasks
    signature = chain(first.s(result), *(task.s() for task in rest)) if rest else first.s(result)
    wait_s = get_settings().broker_wait_s
    try:
        signature.apply_async(retry=True, retry_policy=broker_retry_policy(wait_s))
    except BROKER_ERRORS as exc:
        raise BrokerUnavailable(f"cannot publish to {first.name}: {exc}") from exc


def _run(
    task: Task, stage: Stage, message: dict[str, Any], meta: dict[str, Any], work: Callable[[], T],
    next_tasks: tuple[Task, ...] = (),
) -> T | None:
    """Run one stage for one page, turning every way it can end into retry, failure or hand-on."""
    # This task publishes the chain's next step itself (before the ack): Celery must not.
    task.request.chain = None
    try:
        return _run_guarded(task, stage, message, meta, work, next_tasks)
    except (Ignore, Retry, Reject):
        raise
    except (BrokerUnavailable, *BROKER_ERRORS, SoftTimeLimitExceeded) as exc:
        # Nothing could be written: give the message back (if Redis is still down, the ack state
        # stays in Redis and the consumer lease requeues it once this consumer is gone).
        log.error("cannot complete the page, giving its message back", extra={"stage": stage, "error": repr(exc)[:300]})
        raise Reject(repr(exc)[:300], requeue=True) from exc


def _run_guarded(
    task: Task, stage: Stage, message: dict[str, Any], meta: dict[str, Any], work: Callable[[], T],
    next_tasks: tuple[Task, ...],
) -> T | None:
    delivery = get_settings()
    redelivered = _redelivered(task)
    redeliveries = _count_redelivery(task) if redelivered else 0
    if redeliveries > delivery.max_redeliveries:
        _record_failure(
            task, stage, "poison_page",
            f"the {stage} worker died or timed out {redeliveries} times with this page "
            f"(limit GLEANER_MAX_REDELIVERIES={delivery.max_redeliveries})",
            message, **meta, redeliveries=redeliveries)
        raise Ignore()
    if delivery.fault_injection:
        _inject_fault(stage, meta)

    started = time.perf_counter()
    try:
        result = work()
    except Retry:
        raise
    except PermanentPageError as exc:
        _record_failure(task, stage, exc.code, exc.reason, message, **meta, redeliveries=redeliveries)
        raise Ignore() from exc
    except SoftTimeLimitExceeded as exc:
        _record_failure(task, stage, "timeout", f"{stage} took longer than the per-page time limit", message, **meta,
                        redeliveries=redeliveries)
        raise Ignore() from exc
    except (TransientStageError, *TRANSIENT) as exc:
        if isinstance(exc, ApiError) and 400 <= exc.status_code < 500 and exc.status_code != 429:
            _record_failure(task, stage, "rejected", str(exc)[:1000], message, **meta, redeliveries=redeliveries)
            raise Ignore() from exc
        if task.request.retries >= get_settings().max_retries:
            _record_failure(task, stage, "retries_exhausted", f"{type(exc).__name__}: {exc}"[:1000], message, **meta,
                            redeliveries=redeliveries)
            raise Ignore() from exc
        countdown = _retry_delay(task.request.retries)
        log.info("retrying", extra={"stage": stage, "source": meta["source"], "error": repr(exc)[:300],
                                    "countdown_s": round(countdown, 2)})
        # The task's own max_retries is None (unlimited): the limit is ours, so that running out
        # records a failure instead of Celery failing the task and dropping the page. Celery turns
        # a retry it cannot publish into Reject(requeue=False), which would drop the page: give
        # the message back instead.
        try:
            raise task.retry(exc=exc, countdown=countdown,
                             retry_policy=broker_retry_policy(delivery.broker_wait_s))
        except Reject as rej:
            raise BrokerUnavailable(f"cannot publish the retry: {rej.reason}") from exc
    except ValidationError as exc:
        _record_failure(task, stage, "invalid_message", str(exc)[:1000], message, **meta, redeliveries=redeliveries)
        raise Ignore() from exc
    except Exception as exc:  # noqa: BLE001 - a bug must not take the worker or the batch down
        log.exception("stage crashed", extra={"stage": stage, "source": meta["source"]})
        _record_failure(task, stage, "internal_error", f"{type(exc).__name__}: {exc}"[:1000], message, **meta,
                        redeliveries=redeliveries)
        raise Ignore() from exc

    if next_tasks:
        _send_next(next_tasks, result)  # type: ignore[arg-type]
    _after_success(task, stage, meta, redelivered)
    doc_id = result.get("doc_id") if isinstance(result, dict) else message.get("doc_id")
    log.info("page done", extra={"stage": stage, "source": meta["source"], "doc_id": doc_id,
                                 "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return result


def _after_success(task: Task, stage: Stage, meta: dict[str, Any], redelivered: bool) -> None:
    """Counters, and cleanup after a page that had come back: best effort, never fails the page."""
    def write() -> None:
        pipe = redis_client().pipeline()
        if redelivered:
            pipe.delete(REDELIVERIES_KEY + str(task.request.id))
        if stage == "index" and (redelivered or task.request.retries):
            # An earlier attempt of this page may have been recorded as failed: it is indexed now.
            failure_store().forget(meta["source"], meta["url"], pipe=pipe)
        pipe.execute()
        progress_store().stage_done(stage, meta["batch_id"])

    try:
        with_redis(write, what="stage counters", wait_s=5)
    except BrokerUnavailable:
        log.warning("stage counters not updated (Redis unreachable)", extra={"stage": stage})


def _meta(message: dict[str, Any]) -> dict[str, Any]:
    """What a failure record needs, read leniently so that even a malformed message is recorded."""
    if not isinstance(message, dict):
        message = {}
    doc = message.get("document") if isinstance(message.get("document"), dict) else {}
    return {
        "source": str(message.get("source") or doc.get("source") or "unknown"),
        "url": message.get("url") or doc.get("url"),
        "collection": message.get("collection") or doc.get("collection"),
        "batch_id": message.get("batch_id") or doc.get("batch_id"),
        "seq": message.get("seq"),
    }


@app.task(name="gleaner.parse", bind=True, max_retries=None)
def parse(self: Task, message: dict[str, Any]) -> None:
    settings = get_settings()
    limits = ParseLimits(max_text_chars=settings.max_text_chars, min_body_words=settings.min_body_words)

    def work() -> dict[str, Any]:
        msg = PageMessage.model_validate(message)
        page = unpack_page(msg, max_bytes=settings.max_page_bytes)
        parsed = parse_page(page, batch_id=msg.batch_id, limits=limits)
        return parsed.model_copy(update={"seq": msg.seq}).model_dump(mode="json")

    _run(self, "parse", message, _meta(message), work, next_tasks=(enrich, index))


@app.task(name="gleaner.enrich", bind=True, max_retries=None)
def enrich(self: Task, message: dict[str, Any]) -> None:
    def work() -> dict[str, Any]:
        page = ParsedPage.model_validate(message)
        ex = page.extraction
        entities = ner_batcher().submit(
            EntityInput(title=ex.title, body=ex.body, tags=tuple(ex.tags), language=page.language)
        ).result()
        document = assemble_document(
            page, entities, ner_model=ner_model_version(ner_model()), ingested_at=datetime.now(timezone.utc)
        )
        return IndexMessage(doc_id=page.doc_id, document=document, seq=page.seq).model_dump(mode="json")

    _run(self, "enrich", message, _meta(message), work, next_tasks=(index,))


@app.task(name="gleaner.index", bind=True, max_retries=None)
def index(self: Task, message: dict[str, Any]) -> None:
    meta = _meta(message)

    def work() -> None:
        msg = IndexMessage.model_validate(message)
        result = index_batcher().submit((msg.doc_id, msg.document)).result()
        if result.outcome == "rejected":
            raise PermanentPageError("rejected_by_index", result.reason or "Elasticsearch rejected the document")
        if result.outcome == "retry":
            raise TransientStageError(result.reason)

    _run(self, "index", message, meta, work)
    # Indexed (or a newer fetch of the page already is): the page's terminal state, counted once.
    try:
        with_redis(lambda: progress_store().finish(meta["batch_id"], meta["seq"], "indexed"), what="progress")
    except BrokerUnavailable as exc:
        # The document is in Elasticsearch; without Redis we cannot say so. Run the page again.
        raise Reject(repr(exc)[:300], requeue=True) from exc
