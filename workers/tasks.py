"""Celery tasks: decode the message, call the stage, hand on or record the failure.

A message is a bundle: a list of 1 to ``GLEANER_BUNDLE_PAGES`` pages of one stage (the producer
groups them, ``workers/producer.py``), so the cost of a Celery message and its Redis round trips is
paid once per bundle. Every page in it still ends on its own: handed on, or recorded as failed.

Each task publishes the next stage's message itself (``parse`` -> ``enrich`` -> ``index``) before
its own message is acknowledged, so a page is always in Redis somewhere until it is indexed or
recorded as failed (at-least-once). Pages travel as a Celery chain (DESIGN.md); the task takes the
chain's next step over from Celery, which would publish it only after the ack. How a page can end:

* success: it goes on in the next stage's bundle (published, waiting up to
  ``GLEANER_BROKER_WAIT_S`` for Redis), then the message is acked;
* the page's fault (``PermanentPageError``, invalid message, a crash in a stage on this page, an
  index mapping error): the failure is recorded once, with the page's message of this stage so it
  can be retried, and the rest of the bundle goes on;
* a dependency's fault (Elasticsearch down, 429, 5xx): the pages concerned are retried as a new,
  smaller bundle with exponential backoff and jitter, and recorded as ``retries_exhausted`` when
  the retries run out;
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
from datetime import datetime, timezone
from typing import Any, TypeVar

from celery import Task, chain
from celery.exceptions import Ignore, Reject, Retry, SoftTimeLimitExceeded
from elasticsearch import ApiError, TransportError
from kombu.exceptions import OperationalError
from pydantic import ValidationError
from redis.exceptions import RedisError

from workers.celery_app import DecodedOnceRequest, app, broker_retry_policy
from workers.config import get_settings
from workers.messages import unpack_page
from workers.models import IndexEnvelope, IndexMessage, PageMessage, ParsedPage, RawPage, Stage
from workers.runtime import (
    failure_store, index_batcher, ner_entities, ner_model, progress_store, redis_client,
)
from workers.stages.assemble import assemble_document
from workers.stages.entities import EntityInput, ner_model_version
from workers.stages.errors import PermanentPageError
from workers.stages.parse import ParseLimits, parse_page
from workers.stages.records import open_record
from workers.store.elastic import IndexItem, index_item

log = logging.getLogger("gleaner.worker")
T = TypeVar("T")
Message = dict[str, Any]

TRANSIENT = (TransportError, RedisError, ConnectionError, TimeoutError)
BROKER_ERRORS = (RedisError, OperationalError, ConnectionError, TimeoutError, OSError)
REDELIVERIES_KEY = "gleaner:redeliveries:"  # + task id: times this stage's message came back
REDELIVERIES_TTL_S = 7 * 86400
FAULT_KEY = "gleaner:fault:kill:"  # + stage: test hook, see _inject_fault


class TransientStageError(Exception):
    """Worth retrying: the stage's dependencies failed, not the page."""


class BrokerUnavailable(Exception):
    """Redis could not be reached for longer than ``GLEANER_BROKER_WAIT_S``."""


@dataclass(frozen=True)
class PageFailure:
    error: str  # a short code: binary_content, invalid_message, rejected_by_index...
    reason: str


@dataclass
class BundleOutcome:
    """What became of each page of a bundle at one stage."""

    done: list[tuple[Message, Any]] = field(default_factory=list)  # (message, next stage's message or None)
    failed: list[tuple[Message, PageFailure]] = field(default_factory=list)
    transient: list[tuple[Message, str]] = field(default_factory=list)  # (message, why): retry later


def as_bundle(payload: Any) -> list[Any]:
    """The pages of a task's argument: a list (a bundle), or one page as earlier versions sent it."""
    return list(payload) if isinstance(payload, list) else [payload]


def page_failure(exc: BaseException) -> PageFailure:
    """The failure record of a page whose stage raised ``exc`` (a page's fault, not a dependency's)."""
    if isinstance(exc, PermanentPageError):
        return PageFailure(exc.code, exc.reason)
    if isinstance(exc, ValidationError):
        return PageFailure("invalid_message", str(exc)[:1000])
    if isinstance(exc, ApiError) and 400 <= exc.status_code < 500 and exc.status_code != 429:
        return PageFailure("rejected", str(exc)[:1000])
    return PageFailure("internal_error", f"{type(exc).__name__}: {exc}"[:1000])


def run_page(outcome: BundleOutcome, message: Message, fn: Callable[[], T]) -> T | None:
    """Run one page's part of a stage; a page's own fault becomes its failure, anything else
    (time limit, a dependency down) is the bundle's and propagates."""
    try:
        return fn()
    except (SoftTimeLimitExceeded, Retry, TransientStageError, *TRANSIENT):
        raise
    except Exception as exc:  # noqa: BLE001 - a bad page must not take its bundle down
        if not isinstance(exc, PermanentPageError | ValidationError):
            log.exception("stage crashed on a page", extra={"source": _meta(message)["source"]})
        outcome.failed.append((message, page_failure(exc)))
        return None


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
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerUnavailable(f"{what}: Redis unreachable: {exc}") from exc
            log.warning("redis unreachable, retrying", extra={"error": f"{what}: {exc}"[:300]})
            time.sleep(min(delay, remaining))  # the last try comes at the deadline, not before it
            delay = min(delay * 2, 5.0)


def _page_of(message: PageMessage) -> RawPage:
    """The raw page of a parse message, taken out of its input record if it is still in one."""
    max_bytes = get_settings().max_page_bytes
    return open_record(unpack_page(message, max_bytes=max_bytes), max_bytes=max_bytes)


def _record_fields(message: dict[str, Any]) -> dict[str, Any]:
    """URL and collection of a parse message whose page is still inside its input record (a JSON
    line), for a page that never got through the parse stage (poison page, time limit); {} if the
    record cannot be read."""
    try:
        page = _page_of(PageMessage.model_validate(message))
    except Exception:  # noqa: BLE001 - only a better failure record is at stake
        return {}
    return {"url": page.url, "collection": page.collection}


def _meta(message: Any) -> dict[str, Any]:
    """What a failure record needs, read leniently so that even a malformed message is recorded."""
    if not isinstance(message, dict):
        message = {}
    if message.get("record") and "url" not in message:
        message = {**message, **_record_fields(message)}
    doc = message.get("document") if isinstance(message.get("document"), dict) else {}
    seq = message.get("seq")
    return {
        "source": str(message.get("source") or doc.get("source") or "unknown"),
        "url": message.get("url") or doc.get("url"),
        "collection": message.get("collection") or doc.get("collection"),
        "batch_id": message.get("batch_id") or doc.get("batch_id"),
        "seq": seq if isinstance(seq, int) and seq >= 0 else None,
    }


def _by_batch(metas: Sequence[dict[str, Any]]) -> dict[str | None, list[int | None]]:
    groups: dict[str | None, list[int | None]] = defaultdict(list)
    for meta in metas:
        groups[meta["batch_id"]].append(meta["seq"])
    return groups


def _record_failures(task: Task, stage: Stage, failed: Sequence[tuple[Message, PageFailure]],
                     redeliveries: int = 0) -> None:
    if not failed:
        return
    attempts = task.request.retries + redeliveries + 1
    metas = [_meta(message) for message, _ in failed]

    def write() -> None:
        store = failure_store()
        for (message, failure), meta in zip(failed, metas, strict=True):
            store.record(stage=stage, reason=failure.reason, error=failure.error, source=meta["source"],
                         url=meta["url"], collection=meta["collection"], batch_id=meta["batch_id"],
                         payload=message if isinstance(message, dict) else {"message": repr(message)[:1000]},
                         attempts=attempts)
        for batch_id, seqs in _by_batch(metas).items():
            progress_store().finish_many(batch_id, seqs, "failed")

    with_redis(write, what="record failure")
    for (_, failure), meta in zip(failed, metas, strict=True):
        log.warning("page failed", extra={"stage": stage, "source": meta["source"], "url": meta["url"],
                                          "error": failure.error, "reason": failure.reason})


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


def _inject_fault(stage: Stage, messages: Sequence[Message]) -> None:
    """Test hook (``GLEANER_FAULT_INJECTION=1`` only): kill this worker process with SIGKILL when a
    page's URL or source contains the marker stored at ``gleaner:fault:kill:<stage>``."""
    marker = redis_client().get(FAULT_KEY + stage)
    if not marker:
        return
    for message in messages:
        meta = _meta(message)
        if marker.decode() in f"{meta['url'] or ''} {meta['source']}":
            log.error("fault injection: killing this worker process", extra={"stage": stage})
            os.kill(os.getpid(), signal.SIGKILL)


def _send(tasks: Sequence[Task], messages: list[Any]) -> None:
    """Publish ``messages`` as one bundle to ``tasks[0]``, with the chain of the stages after it,
    waiting for Redis if it is down."""
    first, *rest = tasks
    signature = chain(first.s(messages), *(task.s() for task in rest)) if rest else first.s(messages)
    wait_s = get_settings().broker_wait_s
    try:
        signature.apply_async(retry=True, retry_policy=broker_retry_policy(wait_s))
    except BROKER_ERRORS as exc:
        raise BrokerUnavailable(f"cannot publish to {first.name}: {exc}") from exc


def _split(task: Task, stage: Stage, messages: list[Any], next_tasks: tuple[Task, ...], why: str) -> None:
    """Send each page of the bundle on its own to this stage again, then ack the bundle."""
    for message in messages:
        _send((task, *next_tasks), [message])
    log.warning("bundle split into single pages", extra={"stage": stage, "pages": len(messages), "error": why})
    raise Ignore()


def _run(
    task: Task, stage: Stage, payload: Any, work: Callable[[list[Any]], BundleOutcome],
    next_tasks: tuple[Task, ...] = (),
) -> BundleOutcome | None:
    """Run one stage for a bundle, turning every way a page can end into retry, failure or hand-on."""
    # This task publishes the chain's next step itself (before the ack): Celery must not.
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
    next_tasks: tuple[Task, ...],
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
    except (TransientStageError, *TRANSIENT) as exc:
        outcome = BundleOutcome(transient=[(m, f"{type(exc).__name__}: {exc}"[:1000]) for m in messages])
    except Exception as exc:  # noqa: BLE001 - a bug must not take the worker or the batch down
        if len(messages) > 1:
            _split(task, stage, messages, next_tasks, f"{type(exc).__name__}: {exc}"[:300])
        log.exception("stage crashed", extra={"stage": stage, "source": _meta(messages[0])["source"]})
        _record_failures(task, stage, [(m, page_failure(exc)) for m in messages], redeliveries)
        raise Ignore() from exc

    _record_failures(task, stage, outcome.failed, redeliveries)
    if next_tasks and outcome.done:
        _send(next_tasks, [result for _, result in outcome.done])
    _after_success(task, stage, [message for message, _ in outcome.done], redelivered)
    log.info("bundle done", extra={
        "stage": stage, "pages": len(messages), "done": len(outcome.done), "failed": len(outcome.failed),
        "retried": len(outcome.transient), "batch_id": _meta(messages[0])["batch_id"],
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
    """Counters and progress for the pages done; after an index, they are finished."""
    if not done:
        return
    metas = [_meta(message) for message in done]
    groups = _by_batch(metas)

    def write() -> None:
        store = progress_store()
        for batch_id, seqs in groups.items():
            store.stage_done(stage, batch_id, len(seqs))
            if stage == "index":
                store.finish_many(batch_id, seqs, "indexed")
        if stage == "index" and (redelivered or task.request.retries):
            # An earlier attempt of these pages may have been recorded as failed: indexed now.
            pipe = redis_client().pipeline()
            for meta in metas:
                failure_store().forget(meta["source"], meta["url"], pipe=pipe)
            pipe.execute()

    try:
        with_redis(write, what="progress", wait_s=None if stage == "index" else 5)
    except BrokerUnavailable:
        if stage == "index":
            # The documents are in Elasticsearch; without Redis we cannot say so. Run them again.
            raise
        log.warning("stage counters not updated (Redis unreachable)", extra={"stage": stage})


# ----------------------------------------------------------------------------- the stages' work


def parse_bundle(messages: list[Any]) -> BundleOutcome:
    settings = get_settings()
    limits = ParseLimits(max_text_chars=settings.max_text_chars, min_body_words=settings.min_body_words)
    outcome = BundleOutcome()

    def one(message: Any) -> Message:
        msg = PageMessage.model_validate(message)
        page = _page_of(msg)
        if msg.record:  # the URL and collection were in the record: a later failure is recorded with them
            message.update(url=page.url, collection=page.collection)
        parsed = parse_page(page, batch_id=msg.batch_id, limits=limits)
        return parsed.model_copy(update={"seq": msg.seq}).model_dump(mode="json")

    for message in messages:
        result = run_page(outcome, message, lambda message=message: one(message))
        if result is not None:
            outcome.done.append((message, result))
    return outcome


def enrich_bundle(messages: list[Any]) -> BundleOutcome:
    """NER over the bundle's pages in one ``nlp.pipe`` pass, then one document per page."""
    outcome = BundleOutcome()
    pages: list[tuple[Message, ParsedPage]] = []
    for message in messages:
        page = run_page(outcome, message, lambda message=message: ParsedPage.model_validate(message))
        if page is not None:
            pages.append((message, page))
    if not pages:
        return outcome
    inputs = [EntityInput(title=p.extraction.title, body=p.extraction.body, tags=tuple(p.extraction.tags),
                          language=p.language) for _, p in pages]
    entities = ner_entities(inputs)
    model_version = ner_model_version(ner_model())
    ingested_at = datetime.now(timezone.utc)

    def one(page: ParsedPage, found: Any) -> Message:
        if isinstance(found, BaseException):
            raise found
        document = assemble_document(page, found, ner_model=model_version, ingested_at=ingested_at)
        return IndexMessage(doc_id=page.doc_id, document=document, seq=page.seq).model_dump(mode="json")

    for (message, page), found in zip(pages, entities, strict=True):
        result = run_page(outcome, message, lambda page=page, found=found: one(page, found))
        if result is not None:
            outcome.done.append((message, result))
    return outcome


def index_bundle(messages: list[Any]) -> BundleOutcome:
    """The bundle's documents go into the worker's bulk batcher (shared by the tasks it runs), as
    one group: they travel in the same bulk request."""
    outcome = BundleOutcome()
    pending: list[tuple[Message, IndexItem]] = []

    def to_item(message: Any) -> IndexItem:
        envelope = IndexEnvelope.model_validate(message)
        try:
            return index_item(envelope.doc_id, envelope.document)
        except ValueError as exc:
            raise PermanentPageError("invalid_message", str(exc)) from exc

    for message in messages:
        item = run_page(outcome, message, lambda message=message: to_item(message))
        if item is not None:
            pending.append((message, item))
    try:
        results: list[Any] = index_batcher().submit_many([item for _, item in pending]).result()
    except (TransientStageError, *TRANSIENT) as exc:
        results = [exc] * len(pending)
    for (message, _), result in zip(pending, results, strict=True):
        if isinstance(result, BaseException):
            if isinstance(result, ApiError) and 400 <= result.status_code < 500 and result.status_code != 429:
                outcome.failed.append((message, page_failure(result)))
            elif isinstance(result, (TransientStageError, *TRANSIENT)):
                outcome.transient.append((message, f"{type(result).__name__}: {result}"[:1000]))
            else:
                raise result
        elif result.outcome == "rejected":
            outcome.failed.append((message, PageFailure(
                "rejected_by_index", result.reason or "Elasticsearch rejected the document")))
        elif result.outcome == "retry":
            outcome.transient.append((message, result.reason or "Elasticsearch did not index the document"))
        else:  # indexed, or a newer fetch of the page already is
            outcome.done.append((message, None))
    return outcome


@app.task(name="gleaner.parse", bind=True, max_retries=None)
def parse(self: Task, messages: list[Message] | Message) -> None:
    _run(self, "parse", messages, parse_bundle, next_tasks=(enrich, index))


@app.task(name="gleaner.enrich", bind=True, max_retries=None)
def enrich(self: Task, messages: list[Message] | Message) -> None:
    _run(self, "enrich", messages, enrich_bundle, next_tasks=(index,))


# The index worker runs a thread pool: its tasks take the body its consumer has decoded.
@app.task(name="gleaner.index", bind=True, max_retries=None, Request=DecodedOnceRequest)
def index(self: Task, messages: list[Message] | Message) -> None:
    _run(self, "index", messages, index_bundle)
