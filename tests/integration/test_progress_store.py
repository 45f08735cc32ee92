"""Batch progress against the real Redis of the local stack: each page counts once, and a failed
page that a retry gets indexed moves from failed to indexed."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from workers.runtime import redis_client
from workers.store.progress import ProgressStore

pytestmark = pytest.mark.integration


@pytest.fixture
def store() -> ProgressStore:
    return ProgressStore(redis_client())


@pytest.fixture
def batch(store: ProgressStore):
    batch_id = f"test-progress-{uuid.uuid4().hex[:8]}"
    store.add_submitted(batch_id, 4)
    store.close_submission(batch_id, "test")
    yield batch_id
    store.redis.delete(f"gleaner:batch:{batch_id}", f"gleaner:batch:{batch_id}:done",
                       f"gleaner:batch:{batch_id}:failed")
    store.redis.zrem("gleaner:batches", batch_id)


def counts(store: ProgressStore, batch_id: str) -> tuple[int, int]:
    progress = store.get(batch_id)
    assert progress is not None
    return progress.indexed, progress.failed


def test_redelivered_outcomes_count_once(store, batch):
    store.finish_many(batch, [0, 1], "indexed")
    store.finish_many(batch, [0, 1, None], "indexed")
    store.finish_many(batch, [2], "failed")
    store.finish_many(batch, [2], "failed")
    assert counts(store, batch) == (2, 1)
    assert not store.get(batch).complete


def test_a_failed_page_indexed_by_a_retry_moves_to_indexed(store, batch):
    store.finish_many(batch, [0, 1, 2, 3], "failed")
    assert counts(store, batch) == (0, 4)
    store.finish_many(batch, [1, 3], "indexed")  # `gleaner failures retry`, and the pages went through
    assert counts(store, batch) == (2, 2)
    store.finish_many(batch, [1, 3], "indexed")  # the retry's message delivered twice
    assert counts(store, batch) == (2, 2)
    assert store.get(batch).complete


def test_an_indexed_page_stays_indexed(store, batch):
    store.finish_many(batch, [0], "indexed")
    store.finish_many(batch, [0], "failed")  # a second delivery of the page that failed later on
    store.finish_many(batch, [0], "indexed")
    assert counts(store, batch) == (1, 0)


def test_concurrent_outcomes_of_one_page_count_once(store, batch):
    outcomes = ["failed", "indexed"] * 50
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda outcome: store.finish_many(batch, [3], outcome), outcomes))
    # whichever came first, an indexed outcome follows it: the page ends indexed, counted once
    assert counts(store, batch) == (1, 0)
    assert store.redis.ttl(f"gleaner:batch:{batch}:done") > 0


def test_an_unknown_outcome_is_refused(store, batch):
    with pytest.raises(ValueError, match="unknown outcome"):
        store.finish_many(batch, [0], "parsed")
