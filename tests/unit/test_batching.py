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


def test_micro_batcher_keeps_a_group_together_and_in_order():
    seen_batches = []

    def double(items):
        seen_batches.append(list(items))
        return [ValueError("odd") if i == 3 else i * 2 for i in items]

    batcher = MicroBatcher(double, max_size=4, max_wait_s=0.5, name="t3")
    first, second = batcher.submit_many([1, 2, 3]), batcher.submit_many([4, 5, 6])
    got = first.result(timeout=5)
    assert got[:2] == [2, 4] and isinstance(got[2], ValueError), "an item's exception is in its place"
    assert second.result(timeout=5) == [8, 10, 12]
    assert all(batch in ([1, 2, 3, 4, 5, 6], [1, 2, 3], [4, 5, 6]) for batch in seen_batches), seen_batches
    assert batcher.submit_many([]).result(timeout=1) == []


def test_micro_batcher_sends_what_it_has_after_max_wait():
    import time

    batcher = MicroBatcher(lambda items: list(items), max_size=500, max_wait_s=0.05, name="t4")
    started = time.monotonic()
    assert batcher.submit_many([1, 2]).result(timeout=5) == [1, 2]
    assert time.monotonic() - started < 1.0, "sent after max_wait_s, not held for max_size"


def test_micro_batcher_hands_a_batch_exception_to_every_group():
    batcher = MicroBatcher(lambda items: 1 / 0, max_size=5, max_wait_s=0.0, name="t5")
    with pytest.raises(ZeroDivisionError):
        batcher.submit_many([1, 2]).result(timeout=5)


def test_micro_batcher_prepares_the_next_batch_while_one_is_written():
    writing, prepared_during_write = threading.Event(), []
    release = threading.Event()

    def prepare(items):
        if writing.is_set():
            prepared_during_write.append(list(items))
        return [i * 10 for i in items]

    def write(items):
        writing.set()
        release.wait(timeout=5)
        return [i + 1 for i in items]

    batcher = MicroBatcher(write, prepare=prepare, max_size=2, max_wait_s=0.0, name="t6")
    first = batcher.submit_many([1, 2])
    assert writing.wait(timeout=5)
    second = batcher.submit_many([3])
    for _ in range(100):  # the second batch is prepared while the first is still being written
        if prepared_during_write:
            break
        threading.Event().wait(0.01)
    assert prepared_during_write == [[3]] and not first.done()
    release.set()
    assert first.result(timeout=5) == [11, 21] and second.result(timeout=5) == [31]


def test_micro_batcher_hands_a_prepare_error_to_its_batch_only():
    def prepare(items):
        if 0 in items:
            raise ConnectionError("lookup down")
        return items

    batcher = MicroBatcher(lambda items: list(items), prepare=prepare, max_size=5, max_wait_s=0.0, name="t7")
    with pytest.raises(ConnectionError):
        batcher.submit_many([0, 1]).result(timeout=5)
    assert batcher.submit_many([2, 3]).result(timeout=5) == [2, 3]
