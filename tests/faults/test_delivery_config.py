"""Static checks of the delivery settings and of the local stack's exposure (no services needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_local_stack_binds_loopback_only() -> None:
    stack = (ROOT / "ops" / "stack.sh").read_text()
    (redis_line,) = [line for line in stack.splitlines() if "redis-server" in line and "--port" in line]
    assert "--bind 127.0.0.1" in redis_line and "--protected-mode yes" in redis_line
    es = (ROOT / "ops" / "es.sh").read_text()
    assert 'HOST="${GLEANER_ES_HOST:-127.0.0.1}"' in es
    assert re.search(r"-Dgleaner\.es\.host=\"\$HOST\"", es)
    # Workers, setup and the CLI default to the loopback addresses too.
    from workers.config import Settings

    defaults = Settings.model_fields
    assert defaults["redis_url"].default.startswith("redis://127.0.0.1:")
    assert defaults["es_url"].default.startswith("http://127.0.0.1:")


def test_at_least_once_settings() -> None:
    from workers.broker_transport import GleanerRedisTransport
    from workers.celery_app import app

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.task_acks_on_timeout is False
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport.endswith(":GleanerRedisTransport") and GleanerRedisTransport
    options = conf.broker_transport_options
    assert options["priority_steps"] == [0], "one list per queue, so a consumer fetches with one BLMOVE"
    assert 0 < options["consumer_lease"] < options["visibility_timeout"]


def test_retry_backoff_has_jitter_and_stays_below_the_visibility_timeout() -> None:
    from workers.config import get_settings
    from workers.tasks import _retry_delay

    settings = get_settings()
    for retries in range(0, 12):
        delays = [_retry_delay(retries) for _ in range(50)]
        step = min(settings.retry_backoff_max_s, 2**retries)
        assert all(0.5 * step <= d <= step for d in delays)
        assert len(set(delays)) > 1
    assert settings.retry_backoff_max_s + settings.task_hard_time_limit_s < settings.visibility_timeout_s


def test_broker_retry_policy_waits_about_as_long_as_asked() -> None:
    from workers.celery_app import broker_retry_policy

    for wait in (1, 3, 30, 60, 300):
        policy = broker_retry_policy(wait)
        total, interval = 0.0, policy["interval_start"]
        for _ in range(policy["max_retries"]):
            total += interval
            interval = min(policy["interval_max"], interval + policy["interval_step"])
        assert wait <= total <= wait + policy["interval_max"]


def test_hostile_corpus_is_committed_and_big_enough() -> None:
    from tests.faults.hostile import HOSTILE_DIR, small_corpus

    corpus = small_corpus()
    assert len(corpus) >= 40
    for name, content in corpus.items():
        path = HOSTILE_DIR / name
        assert path.exists(), f"{name} is missing: python -m tests.faults.hostile"
        assert path.read_bytes() == content, f"{name} differs from its generator"
        assert len(content) < 200_000, "big inputs are generated at test time"


# --- the task wrapper's decisions, with stand-ins for Redis and the stores -------------------

class _FakeRedis:
    def __init__(self, fail: bool = False) -> None:
        self.data: dict[str, int] = {}
        self.fail = fail

    def pipeline(self):
        return _FakePipe(self)

    def get(self, key):
        return None


class _FakePipe:
    def __init__(self, redis: _FakeRedis) -> None:
        self.redis, self.ops = redis, []

    def incr(self, key):
        self.ops.append(lambda: self.redis.data.__setitem__(key, self.redis.data.get(key, 0) + 1) or self.redis.data[key])
        return self

    def __getattr__(self, name):  # expire, delete, zrem...: accepted, no effect
        def op(*args, **kwargs):
            self.ops.append(lambda: 1)
            return self
        return op

    def execute(self):
        from redis.exceptions import ConnectionError as RedisConnectionError

        if self.redis.fail:
            raise RedisConnectionError("Redis is down")
        return [op() for op in self.ops]


class _Stores:
    def __init__(self, fail: bool = False) -> None:
        self.recorded: list[dict] = []
        self.finished: list[tuple] = []
        self.fail = fail

    def record(self, **kwargs):
        from redis.exceptions import ConnectionError as RedisConnectionError

        if self.fail:
            raise RedisConnectionError("Redis is down")
        self.recorded.append(kwargs)

    def finish(self, batch_id, seq, outcome):
        self.finished.append((batch_id, seq, outcome))

    def stage_done(self, *args):
        pass

    def forget(self, *args, **kwargs):
        pass


def _task(redelivered: bool = False, retries: int = 0):
    from types import SimpleNamespace

    request = SimpleNamespace(id="task-1", retries=retries, delivery_info={"redelivered": redelivered}, chain=[{}])
    return SimpleNamespace(request=request, name="gleaner.parse", retry=None)


@pytest.fixture
def wired(monkeypatch):
    import workers.tasks as tasks

    redis, stores = _FakeRedis(), _Stores()
    monkeypatch.setattr(tasks, "redis_client", lambda: redis)
    monkeypatch.setattr(tasks, "failure_store", lambda: stores)
    monkeypatch.setattr(tasks, "progress_store", lambda: stores)
    monkeypatch.setenv("GLEANER_BROKER_WAIT_S", "0.5")
    tasks.get_settings.cache_clear()
    yield tasks, redis, stores
    tasks.get_settings.cache_clear()


META = {"source": "a.html", "url": "https://x.org/a", "collection": "c", "batch_id": "b", "seq": 3}


def test_a_page_redelivered_too_often_is_recorded_as_poison(wired) -> None:
    from celery.exceptions import Ignore

    tasks, redis, stores = wired
    ran = []
    task = _task(redelivered=True)
    for _ in range(3):  # redeliveries 1..3 still run
        tasks._run(task, "parse", {"source": "a.html"}, META, lambda: ran.append(1))
    assert len(ran) == 3 and not stores.recorded
    with pytest.raises(Ignore):
        tasks._run(task, "parse", {"source": "a.html"}, META, lambda: ran.append(1))
    assert len(ran) == 3, "the 4th redelivery does not run the stage"
    (record,) = stores.recorded
    assert record["error"] == "poison_page" and record["attempts"] == 5 and record["payload"] == {"source": "a.html"}
    assert stores.finished == [("b", 3, "failed")]
    assert task.request.chain is None, "the chain is dropped: the task publishes the next stage itself"


def test_a_first_delivery_is_not_counted(wired) -> None:
    tasks, redis, stores = wired
    tasks._run(_task(redelivered=False), "parse", {}, META, lambda: None)
    assert redis.data == {}


def test_a_permanent_page_error_is_recorded_once_and_acked(wired) -> None:
    from celery.exceptions import Ignore

    from workers.stages.errors import PermanentPageError

    tasks, _, stores = wired

    def work():
        raise PermanentPageError("binary_content", "not a web page: looks like PNG image")

    with pytest.raises(Ignore):
        tasks._run(_task(), "parse", {"m": 1}, META, work)
    (record,) = stores.recorded
    assert (record["stage"], record["error"], record["attempts"]) == ("parse", "binary_content", 1)


def test_when_nothing_can_be_written_the_message_goes_back(wired) -> None:
    from celery.exceptions import Reject

    from workers.stages.errors import PermanentPageError

    tasks, _, stores = wired
    stores.fail = True

    def work():
        raise PermanentPageError("empty", "the page is empty")

    with pytest.raises(Reject) as rejected:
        tasks._run(_task(), "parse", {}, META, work)
    assert rejected.value.requeue is True


def test_a_retry_that_cannot_be_published_requeues_instead_of_dropping(wired) -> None:
    from celery.exceptions import Reject

    tasks, _, _ = wired
    task = _task()

    def retry(**kwargs):
        raise Reject("publish failed", requeue=False)  # what Celery does when it cannot publish a retry

    task.retry = retry

    def work():
        raise ConnectionError("Elasticsearch is down")

    with pytest.raises(Reject) as rejected:
        tasks._run(task, "index", {}, META, work)
    assert rejected.value.requeue is True
