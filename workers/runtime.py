"""The composition root: a process's clients, stores and the resources the pipeline's steps are
handed, created on first use and wired here only.

Created lazily so that a prefork pool's children each open their own connections and load the
spaCy model after the fork, not in the parent. The failure store is wired to the failures index
mirror here (every record it writes is copied to Elasticsearch for Kibana, in the background).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence
from functools import cached_property, lru_cache, partial
from typing import TYPE_CHECKING

import redis
from elasticsearch import Elasticsearch

from workers.batching import MicroBatcher
from workers.config import Settings, get_settings
from workers.models import Entity
from workers.pipeline import Resources
from workers.store.elastic import BulkItemResult, IndexItem, as_gleaner_error, bulk_index, ensure_index, make_client
from workers.store.failure_index import FailureMirror
from workers.store.failures import FailureStore
from workers.store.near_duplicates import place_in_clusters
from workers.store.progress import ProgressStore

if TYPE_CHECKING:
    from spacy.language import Language

    from workers.stages.entities import EntityInput

_index_ready = threading.Event()
_index_lock = threading.Lock()


@lru_cache(maxsize=1)
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url, health_check_interval=30, socket_timeout=30)


@lru_cache(maxsize=1)
def es_client() -> Elasticsearch:
    return make_client(get_settings())


@lru_cache(maxsize=1)
def failure_mirror() -> FailureMirror:
    """The copy of the failure store in Elasticsearch (``workers/store/failure_index.py``),
    flushed when the process exits."""
    mirror = FailureMirror(es_client, create_index=get_settings().es_create_indices)
    atexit.register(mirror.flush)
    return mirror


def failure_store() -> FailureStore:
    return FailureStore(redis_client(), ttl_days=get_settings().failure_ttl_days, on_record=failure_mirror().put)


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


class SpacyEntities:
    """The enrich stage's entity finder (``workers.stages.entities``): the spaCy model is loaded on
    first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @cached_property
    def nlp(self) -> Language:
        from workers.stages.entities import load_ner

        return load_ner(self._settings.spacy_model)

    @cached_property
    def version(self) -> str:
        from workers.stages.entities import ner_model_version

        return ner_model_version(self.nlp)

    def batch(self, pages: Sequence[EntityInput]) -> list[list[Entity]]:
        from workers.stages.entities import extract_entities_batch

        return list(extract_entities_batch(self.nlp, pages, batch_size=self._settings.ner_batch_size,
                                           max_chars=self._settings.ner_max_chars))

    def one(self, page: EntityInput) -> list[Entity]:
        from workers.stages.entities import extract_entities

        return extract_entities(self.nlp, page, max_chars=self._settings.ner_max_chars)


@lru_cache(maxsize=1)
def entity_finder() -> SpacyEntities:
    return SpacyEntities(get_settings())


def _place_batch(items: Sequence[IndexItem], alias: str | None = None) -> list[IndexItem]:
    """A bulk batch placed in near-duplicate clusters: one search and one Redis script for the
    batch. If the clusters cannot be decided, the whole batch is retried."""
    ensure_index_once()
    settings = get_settings()
    return place_in_clusters(es_client(), redis_client(), alias or settings.index_alias, items,
                             claim_ttl_s=settings.dedup_claim_ttl_s, max_candidates=settings.dedup_candidates)


def _write_batch(items: Sequence[IndexItem], alias: str | None = None) -> list[BulkItemResult]:
    """One bulk request for the batch: it holds up to ``GLEANER_INDEX_BATCH_SIZE`` documents plus
    the rest of the last bundle (a bundle is never split), which a chunk size of exactly that would
    send alone."""
    return bulk_index(es_client(), alias or get_settings().index_alias, items, chunk_size=max(len(items), 1))


def _bulk_batch(items: Sequence[IndexItem]) -> list[BulkItemResult]:
    """A bulk batch placed in clusters, then written, one after the other (``gleaner process``)."""
    return _write_batch(_place_batch(items))


def clustered_writer(alias: str | None = None, max_size: int | None = None) -> MicroBatcher[IndexItem, BulkItemResult]:
    """A bulk writer gathering the documents handed to it from any thread: at
    ``GLEANER_INDEX_BATCH_SIZE`` documents or ``GLEANER_INDEX_FLUSH_S`` after the first, a batch is
    placed in clusters, then written while the next batch gathers and is placed (``alias``,
    ``max_size``: another index and batch size than the settings', for benchmarks)."""
    settings = get_settings()
    return MicroBatcher(
        partial(_write_batch, alias=alias), prepare=partial(_place_batch, alias=alias),
        max_size=max_size or settings.index_batch_size, max_wait_s=settings.index_flush_s, name="bulk-batcher",
    )


@lru_cache(maxsize=1)
def index_batcher() -> MicroBatcher[IndexItem, BulkItemResult]:
    """One bulk writer per worker process (``clustered_writer``): the documents of the bundles its
    threads are running go out together."""
    return clustered_writer()


def _write_batched(items: Sequence[IndexItem]) -> list[BulkItemResult | Exception]:
    """A worker's writer: the bundle's items join the process's bulk batcher as one group (they go
    in the same bulk request, and one future waits for all of them)."""
    try:
        results = index_batcher().submit_many(items).result()
    except Exception as exc:  # noqa: BLE001 - the whole request failed: each item gets the error, in Gleaner's tree
        return [as_gleaner_error(exc)] * len(items)
    written: list[BulkItemResult | Exception] = []
    for result in results:
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            result = as_gleaner_error(result)
        written.append(result)
    return written


def _write_now(items: Sequence[IndexItem]) -> list[BulkItemResult | Exception]:
    """The in-process writer: one bulk request now (the runner hands ``GLEANER_INDEX_BATCH_SIZE``
    documents at a time)."""
    try:
        return list(_bulk_batch(items))
    except Exception as exc:  # noqa: BLE001 - each item gets the error, in Gleaner's tree
        return [as_gleaner_error(exc)] * len(items)


def worker_resources(*, interrupts: tuple[type[BaseException], ...] = ()) -> Resources:
    """What the pipeline's steps are handed on a Celery worker."""
    return Resources(settings=get_settings(), entities=entity_finder(), write=_write_batched, interrupts=interrupts)


def offline_resources(settings: Settings | None = None) -> Resources:
    """What the pipeline's steps are handed in one process (``gleaner process``)."""
    if settings is None or settings == get_settings():
        return Resources(settings=get_settings(), entities=entity_finder(), write=_write_now)
    return Resources(settings=settings, entities=SpacyEntities(settings), write=_write_now)
