"""The failure store (``workers/store/failures.py``) has no side effect of its own: whoever builds it
decides what else hears of a record (``workers/runtime.py`` wires the failures index mirror)."""

import threading

import pytest

from workers.store.failures import FailureStore, failure_id

pytestmark = pytest.mark.unit


class _Redis:
    """The few commands the store uses, in memory."""

    def __init__(self) -> None:
        self.data: dict = {}

    def get(self, key):
        return self.data.get(key)

    def pipeline(self):
        return _Pipe(self)


class _Pipe:
    def __init__(self, redis: _Redis) -> None:
        self.redis, self.ops = redis, []

    def set(self, key, value, ex=None):
        self.ops.append(lambda: self.redis.data.__setitem__(key, value.encode()))

    def __getattr__(self, name):  # zadd, hincrby: not needed here
        return lambda *args, **kwargs: None

    def execute(self):
        return [op() for op in self.ops]


def _record(store: FailureStore):
    return store.record(stage="parse", reason="a PNG", error="binary_content", source="/a.html", url=None,
                        collection="c", batch_id="b", payload={"x": 1})


def test_recording_a_failure_starts_nothing_and_calls_only_what_it_was_given():
    threads = threading.active_count()
    store = FailureStore(_Redis())
    first = _record(store)
    assert threading.active_count() == threads, "no thread, no Elasticsearch"
    heard = []
    store = FailureStore(store.redis, on_record=heard.append)
    again = _record(store)
    assert heard == [again] and again.id == first.id == failure_id("/a.html", None)
    assert again.attempts == 2 and again.first_failed_at == first.first_failed_at


def test_the_runtime_wires_the_failures_index_mirror():
    from workers import runtime

    store = runtime.failure_store()
    assert store._on_record == runtime.failure_mirror().put
