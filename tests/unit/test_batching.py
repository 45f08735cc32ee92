"""Gathering concurrent single-item calls into batches (``workers/batching.py``)."""

import threading

import pytest

from workers.batching import MicroBatcher

pytestmark = pytest.mark.unit


def test_micro_batcher_batches_and_isolates_errors():
    seen_batches = []

    def double(items):
        seen_batches.append(len(items))
        return [ValueError("odd") if i == 3 else i * 2 for i in items]

    batcher = MicroBatcher(double, max_size=50, max_wait_s=0.2, name="t")
    results, errors = {}, {}

    def call(i):
        try:
            results[i] = batcher.submit(i).result(timeout=5)
        except ValueError as exc:
            errors[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: i * 2 for i in range(20) if i != 3}
    assert list(errors) == [3]
    assert sum(seen_batches) == 20 and max(seen_batches) > 1


def test_micro_batcher_hands_batch_exception_to_every_caller():
    batcher = MicroBatcher(lambda items: 1 / 0, max_size=5, max_wait_s=0.0, name="t2")
    with pytest.raises(ZeroDivisionError):
        batcher.submit(1).result(timeout=5)
