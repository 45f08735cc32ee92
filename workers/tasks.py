"""Celery tasks: decode the message, call the stage, hand on or record the failure.

Each task returns the next stage's message; the producer sends every page as the chain
``parse | enrich | index``. A page that cannot succeed is recorded in the failure store and its
chain stops there (``Ignore``); transient errors are retried with backoff and jitter, and
recorded when retries run out.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from celery import Task
from celery.exceptions import Ignore, Retry, SoftTimeLimitExceeded
from elasticsearch import ApiError, TransportError
from pydantic import ValidationError
from redis.exceptions import RedisError

from workers.celery_app import app
from workers.config import get_settings
from workers.messages import unpack_page
from workers.models import IndexMessage, PageMessage, ParsedPage, Stage
from workers.runtime import failure_store, index_batcher, ner_batcher, ner_model, progress_store
from workers.stages.assemble import assemble_document
from workers.stages.entities import EntityInput, ner_model_version
from workers.stages.errors import PermanentPageError
from workers.stages.parse import ParseLimits, parse_page

log = logging.getLogger("gleaner.worker")
T = TypeVar("T")

TRANSIENT = (TransportError, RedisError, ConnectionError, TimeoutError)


class TransientStageError(Exception):
    """Worth retrying: the stage's dependencies failed, not the page."""


def _retry_delay(retries: int) -> float:
    settings = get_settings()
    return min(settings.retry_backoff_max_s, 2**retries) * random.uniform(0.5, 1.0)


def _record_failure(
    task: Task, stage: Stage, error: str, reason: str, message: dict[str, Any], *, source: str, url: str | None,
    collection: str | None, batch_id: str | None, seq: int | None,
) -> None:
    failure_store().record(
        stage=stage, reason=reason, error=error, source=source, url=url, collection=collection,
        batch_id=batch_id, payload=message, attempts=task.request.retries + 1,
    )
    progress_store().finish(batch_id, seq, "failed")
    log.warning("page failed", extra={"stage": stage, "source": source, "url": url, "error": error, "reason": reason})


def _run(task: Task, stage: Stage, message: dict[str, Any], meta: dict[str, Any], work: Callable[[], T]) -> T:
    """Run one stage for one page, turning every way it can end into retry, failure or result."""
    started = time.perf_counter()
    try:
        result = work()
    except Retry:
        raise
    except PermanentPageError as exc:
        _record_failure(task, stage, exc.code, exc.reason, message, **meta)
        raise Ignore() from exc
    except SoftTimeLimitExceeded as exc:
        _record_failure(task, stage, "timeout", f"{stage} took longer than the per-page time limit", message, **meta)
        raise Ignore() from exc
    except (TransientStageError, *TRANSIENT) as exc:
        if isinstance(exc, ApiError) and 400 <= exc.status_code < 500 and exc.status_code != 429:
            _record_failure(task, stage, "rejected", str(exc)[:1000], message, **meta)
            raise Ignore() from exc
        if task.request.retries >= get_settings().max_retries:
            _record_failure(task, stage, "retries_exhausted", f"{type(exc).__name__}: {exc}"[:1000], message, **meta)
            raise Ignore() from exc
        log.info("retrying", extra={"stage": stage, "source": meta["source"], "error": repr(exc)[:300]})
        # The task's own max_retries is None (unlimited): the limit is ours, so that running out
        # records a failure instead of Celery failing the task and dropping the page.
        raise task.retry(exc=exc, countdown=_retry_delay(task.request.retries))
    except ValidationError as exc:
        _record_failure(task, stage, "invalid_message", str(exc)[:1000], message, **meta)
        raise Ignore() from exc
    except Exception as exc:  # noqa: BLE001 - a bug must not take the worker or the batch down
        log.exception("stage crashed", extra={"stage": stage, "source": meta["source"]})
        _record_failure(task, stage, "internal_error", f"{type(exc).__name__}: {exc}"[:1000], message, **meta)
        raise Ignore() from exc
    progress_store().stage_done(stage, meta["batch_id"])
    log.info("page done", extra={"stage": stage, "source": meta["source"],
                                 "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return result


def _meta(message: dict[str, Any]) -> dict[str, Any]:
    """What a failure record needs, read leniently so that even a malformed message is recorded."""
    doc = message.get("document") or {}
    return {
        "source": str(message.get("source") or doc.get("source") or "unknown"),
        "url": message.get("url") or doc.get("url"),
        "collection": message.get("collection") or doc.get("collection"),
        "batch_id": message.get("batch_id") or doc.get("batch_id"),
        "seq": message.get("seq"),
    }


@app.task(name="gleaner.parse", bind=True, max_retries=None)
def parse(self: Task, message: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    limits = ParseLimits(max_text_chars=settings.max_text_chars, min_body_words=settings.min_body_words)

    def work() -> dict[str, Any]:
        msg = PageMessage.model_validate(message)
        page = unpack_page(msg, max_bytes=settings.max_page_bytes)
        parsed = parse_page(page, batch_id=msg.batch_id, limits=limits)
        return parsed.model_copy(update={"seq": msg.seq}).model_dump(mode="json")

    return _run(self, "parse", message, _meta(message), work)


@app.task(name="gleaner.enrich", bind=True, max_retries=None)
def enrich(self: Task, message: dict[str, Any]) -> dict[str, Any]:
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

    return _run(self, "enrich", message, _meta(message), work)


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
        progress_store().finish(meta["batch_id"], meta["seq"], "indexed")

    _run(self, "index", message, meta, work)
