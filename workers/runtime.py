"""Per-process resources of a worker: clients, stores and batchers, created on first use.

Created lazily so that a prefork pool's children each open their own connections and load the
spaCy model after the fork, not in the parent.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import redis
from elasticsearch import Elasticsearch

from workers.batching import MicroBatcher
from workers.config import get_settings
from workers.models import Entity
from workers.store.elastic import BulkItemResult, IndexItem, bulk_index, ensure_index, make_client
from workers.store.failures import FailureStore
from workers.store.progress import ProgressStore

if TYPE_CHECKING:
    from workers.stages.entities import EntityInput

_index_ready = threading.Event()
_index_lock = threading.Lock()


@lru_cache(maxsize=1)
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url, health_check_interval=30, socket_timeout=30)


@lru_cache(maxsize=1)
def es_client() -> Elasticsearch:
    return make_client(get_settings())


def failure_store() -> FailureStore:
    return FailureStore(redis_client(), ttl_days=get_settings().failure_ttl_days)


def progress_store() -> ProgressStore:
    return ProgressStore(redis_client())


def ensure_index_once() -> None:
    if _index_ready.is_set():
        return
    with _index_lock:
        if not _index_ready.is_set():
            settings = get_settings()
            if settings.es_create_indices:  # else setup made them, and this user may only write documents
                ensure_index(es_client(), settings.index_alias)
            _index_ready.set()


@lru_cache(maxsize=1)
def ner_model():
    from workers.stages.entities import load_ner

    return load_ner(get_settings().spacy_model)


def ner_entities(pages: Sequence[EntityInput]) -> list[list[Entity] | BaseException]:
    """Entities of each page, in one ``nlp.pipe`` pass; a page that breaks the pass gets its
    exception in its place (the others are run again one by one)."""
    from workers.stages.entities import extract_entities, extract_entities_batch

    nlp = ner_model()
    settings = get_settings()
    try:
        return list(extract_entities_batch(nlp, pages, batch_size=settings.ner_batch_size,
                                           max_chars=settings.ner_max_chars))
    except Exception:  # noqa: BLE001 - isolate the page that broke the batch
        results: list[list[Entity] | BaseException] = []
        for page in pages:
            try:
                results.append(extract_entities(nlp, page, max_chars=settings.ner_max_chars))
            except Exception as exc:  # noqa: BLE001
                results.append(exc)
        return results


def _bulk_batch(items: Sequence[IndexItem]) -> list[BulkItemResult]:
    ensure_index_once()
    # One request for the batch: it holds up to GLEANER_INDEX_BATCH_SIZE documents plus the rest of
    # the last bundle (a bundle is never split), which a chunk size of exactly that would send alone.
    return bulk_index(es_client(), get_settings().index_alias, items, chunk_size=max(len(items), 1))


@lru_cache(maxsize=1)
def index_batcher() -> MicroBatcher[IndexItem, BulkItemResult]:
    """One bulk writer per worker process: the documents of the bundles its threads are running
    go out together, at ``GLEANER_INDEX_BATCH_SIZE`` documents or ``GLEANER_INDEX_FLUSH_S`` after
    the first; while a request is in flight the next one gathers."""
    settings = get_settings()
    return MicroBatcher(
        _bulk_batch, max_size=settings.index_batch_size, max_wait_s=settings.index_flush_s, name="bulk-batcher",
    )
