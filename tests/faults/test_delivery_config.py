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


def test_compose_and_local_stack_run_redis_alike() -> None:
    """Durability, AOF sizing and rewrite cost: the same flags for users (compose) and here (ops/stack.sh)."""
    flags = ("--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction",
             "--auto-aof-rewrite-min-size 1gb", "--rdbcompression no")
    compose = (ROOT / "docker-compose.yml").read_text()
    stack = (ROOT / "ops" / "stack.sh").read_text()
    for flag in flags:
        assert flag in compose and flag in stack, flag


def test_at_least_once_settings() -> None:
    from workers.delivery.app import app
    from workers.delivery.transport import GleanerRedisTransport

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.task_acks_on_timeout is False
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport.endswith(":GleanerRedisTransport") and GleanerRedisTransport
    options = conf.broker_transport_options
    assert options["priority_steps"] == [0], "one list per queue, so a consumer fetches with one BLMOVE"
    assert 0 < options["consumer_lease"] < options["visibility_timeout"]


def test_retry_backoff_has_jitter_and_stays_below_the_visibility_timeout() -> None:
    from workers.config import get_settings
    from workers.delivery.bundles import _retry_delay

    settings = get_settings()
    for retries in range(0, 12):
        delays = [_retry_delay(retries) for _ in range(50)]
        step = min(settings.retry_backoff_max_s, 2**retries)
        assert all(0.5 * step <= d <= step for d in delays)
        assert len(set(delays)) > 1
    assert settings.retry_backoff_max_s + settings.task_hard_time_limit_s < settings.visibility_timeout_s


def test_broker_retry_policy_waits_about_as_long_as_asked() -> None:
    from workers.delivery.broker_wait import broker_retry_policy

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


def test_every_hostile_input_has_one_expected_outcome() -> None:
    from tests.faults.hostile import EXPECTED, build_generated_corpus, small_corpus

    names = set(small_corpus())
    generated = ("page-100mb.html", "bomb-zeros.html.gz", "bomb-markup.html.gz", "bomb-in-warc.warc.gz",
                 "bomb.jsonl.gz", "nested-million-open.html", "nested-million-closed.html", "huge-single-line.txt",
                 "one-huge-word.txt", "attributes-100k.html", "external-resources.html")
    source = __import__("inspect").getsource(build_generated_corpus)
    assert all(f'"{name}"' in source for name in generated), "the generated inputs' names"
    files = {key.partition("#")[0] for key in EXPECTED}
    assert files == names | set(generated), (sorted(files - names - set(generated)), sorted(names - files))
    for key, outcome in EXPECTED.items():
        assert (outcome.text is None) != (outcome.failure is None), key


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
        self.stage_counts: list[tuple] = []
        self.fail = fail

    def record(self, **kwargs):
        from redis.exceptions import ConnectionError as RedisConnectionError

        if self.fail:
            raise RedisConnectionError("Redis is down")
        self.recorded.append(kwargs)

    def finish_many(self, batch_id, seqs, outcome):
        self.finished.extend((batch_id, seq, outcome) for seq in seqs)

    def stage_done(self, stage, batch_id, n=1):
        self.stage_counts.append((stage, batch_id, n))

    def forget(self, *args, **kwargs):
        pass


def _task(redelivered: bool = False, retries: int = 0):
    from types import SimpleNamespace

    request = SimpleNamespace(id="task-1", retries=retries, delivery_info={"redelivered": redelivered}, chain=[{}])
    return SimpleNamespace(request=request, name="gleaner.parse", retry=None)


@pytest.fixture
def wired(monkeypatch):
    import workers.delivery.bundles as tasks

    redis, stores = _FakeRedis(), _Stores()
    sent: list[tuple] = []
    monkeypatch.setattr(tasks, "redis_client", lambda: redis)
    monkeypatch.setattr(tasks, "failure_store", lambda: stores)
    monkeypatch.setattr(tasks, "progress_store", lambda: stores)
    monkeypatch.setattr(tasks, "_send", lambda task_list, messages: sent.append((task_list, messages)))
    monkeypatch.setenv("GLEANER_BROKER_WAIT_S", "0.5")
    tasks.get_settings.cache_clear()
    stores.sent = sent
    yield tasks, redis, stores
    tasks.get_settings.cache_clear()


def _page(seq: int) -> dict:
    return {"source": f"p{seq}.html", "url": f"https://x.org/{seq}", "collection": "c", "batch_id": "b", "seq": seq}


def _stage_ok(messages):
    """A stage that hands every page on."""
    from workers.delivery.bundles import BundleOutcome

    return BundleOutcome(done=[(m, {"next": m["seq"]}) for m in messages])


def test_a_page_redelivered_too_often_is_recorded_as_poison(wired) -> None:
    from celery.exceptions import Ignore

    tasks, redis, stores = wired
    ran = []
    task = _task(redelivered=True)

    def work(messages):
        ran.append(1)
        return _stage_ok(messages)

    for _ in range(3):  # redeliveries 1..3 still run
        tasks._run(task, "parse", [_page(3)], work, next_tasks=("enrich",))
    assert len(ran) == 3 and not stores.recorded
    with pytest.raises(Ignore):
        tasks._run(task, "parse", [_page(3)], work)
    assert len(ran) == 3, "the 4th redelivery does not run the stage"
    (record,) = stores.recorded
    assert record["error"] == "poison_page" and record["attempts"] == 5 and record["payload"] == _page(3)
    assert stores.finished == [("b", 3, "failed")]
    assert task.request.chain is None, "the chain is dropped: the task publishes the next stage itself"


def test_a_jsonl_page_that_never_got_through_parse_is_recorded_with_its_url(wired) -> None:
    """Its URL is inside the JSON line the message still carries: the record reads it from there."""
    from celery.exceptions import Ignore

    from workers.messages import pack_page
    from workers.models import RawPage

    tasks, redis, stores = wired
    line = b'{"url": "https://x.org/poison", "html": "<p>x</p>", "collection": "own"}\n'
    good = pack_page(RawPage(content=line, source="p.jsonl#4", collection="c", record="jsonl"), batch_id="b", seq=3,
                     max_bytes=10_000).model_dump(mode="json", exclude_none=True)
    broken = pack_page(RawPage(content=b"{not json", source="p.jsonl#5", record="jsonl"), batch_id="b", seq=4,
                       max_bytes=10_000).model_dump(mode="json", exclude_none=True)
    task = _task(redelivered=True)
    for message in (good, broken):
        for _ in range(4):
            try:
                tasks._run(task, "parse", [message], _stage_ok, next_tasks=("enrich",))
            except Ignore:
                break
    first, second = stores.recorded
    assert first["error"] == "poison_page" and first["url"] == "https://x.org/poison" and first["collection"] == "own"
    assert second["error"] == "poison_page" and second["url"] is None and second["source"] == "p.jsonl#5"
    assert first["payload"] == good, "the stored message is the one that came in"


def test_a_redelivered_bundle_is_split_into_single_pages(wired) -> None:
    from celery.exceptions import Ignore

    tasks, redis, stores = wired
    ran = []
    task = _task(redelivered=True)
    with pytest.raises(Ignore):
        tasks._run(task, "parse", [_page(0), _page(1), _page(2)], lambda m: ran.append(m), next_tasks=("enrich",))
    assert not ran, "the bundle is not run again as a whole"
    assert [messages for _, messages in stores.sent] == [[_page(0)], [_page(1)], [_page(2)]]
    assert all(task_list == (task, "enrich") for task_list, _ in stores.sent)
    assert redis.data == {} and not stores.recorded, "nothing counted or failed yet: each page gets its own count"


def test_a_first_delivery_is_not_counted(wired) -> None:
    tasks, redis, stores = wired
    tasks._run(_task(redelivered=False), "parse", [_page(0)], _stage_ok)
    assert redis.data == {}


def test_a_bundle_goes_on_as_one_message_and_counts_its_pages(wired) -> None:
    tasks, redis, stores = wired
    tasks._run(_task(), "enrich", [_page(0), _page(1)], _stage_ok, next_tasks=("index",))
    assert stores.sent == [(("index",), [{"next": 0}, {"next": 1}])]
    assert stores.stage_counts == [("enrich", "b", 2)]


def test_a_bad_page_fails_alone_and_its_bundle_goes_on(wired) -> None:
    from workers.errors import PermanentPageError

    tasks, _, stores = wired

    def work(messages):
        outcome = tasks.BundleOutcome()
        for m in messages:
            def one(m=m):
                if m["seq"] == 1:
                    raise PermanentPageError("binary_content", "not a web page: looks like PNG image")
                if m["seq"] == 2:
                    raise KeyError("a bug in a stage")
                return {"next": m["seq"]}
            result = tasks.run_page(outcome, m, one)
            if result is not None:
                outcome.done.append((m, result))
        return outcome

    tasks._run(_task(), "parse", [_page(0), _page(1), _page(2), _page(3)], work, next_tasks=("enrich",))
    assert [(r["source"], r["error"], r["attempts"]) for r in stores.recorded] == [
        ("p1.html", "binary_content", 1), ("p2.html", "internal_error", 1)]
    assert stores.sent == [(("enrich",), [{"next": 0}, {"next": 3}])]
    assert sorted(stores.finished) == [("b", 1, "failed"), ("b", 2, "failed")]


def test_index_pages_are_finished_once_indexed(wired) -> None:
    tasks, _, stores = wired
    tasks._run(_task(), "index", [_page(4), _page(5)], lambda ms: tasks.BundleOutcome(done=[(m, None) for m in ms]))
    assert stores.finished == [("b", 4, "indexed"), ("b", 5, "indexed")] and not stores.sent


def test_pages_a_dependency_failed_are_retried_as_a_smaller_bundle(wired) -> None:
    from celery.exceptions import Retry

    tasks, _, stores = wired
    task = _task()
    retried = []

    def retry(**kwargs):
        retried.append(kwargs)
        raise Retry()

    task.retry = retry

    def work(messages):
        return tasks.BundleOutcome(done=[(messages[0], None)], transient=[(m, "429 Too Many Requests") for m in messages[1:]])

    with pytest.raises(Retry):
        tasks._run(task, "index", [_page(0), _page(1), _page(2)], work)
    (kwargs,) = retried
    assert kwargs["args"] == ([_page(1), _page(2)],) and kwargs["countdown"] > 0
    assert stores.finished == [("b", 0, "indexed")] and not stores.recorded


def test_when_retries_run_out_the_pages_are_recorded(wired) -> None:
    tasks, _, stores = wired
    task = _task(retries=tasks.get_settings().max_retries)
    tasks._run(task, "index", [_page(0)], lambda ms: tasks.BundleOutcome(transient=[(m, "ConnectionError") for m in ms]))
    (record,) = stores.recorded
    assert record["error"] == "retries_exhausted" and stores.finished == [("b", 0, "failed")]


def test_a_bundle_the_stage_crashes_on_is_split(wired) -> None:
    from celery.exceptions import Ignore

    tasks, _, stores = wired

    def work(messages):
        raise MemoryError("the whole bundle")

    with pytest.raises(Ignore):
        tasks._run(_task(), "enrich", [_page(0), _page(1)], work, next_tasks=("index",))
    assert len(stores.sent) == 2 and not stores.recorded
    with pytest.raises(Ignore):
        tasks._run(_task(), "enrich", [_page(0)], work, next_tasks=("index",))
    (record,) = stores.recorded
    assert record["error"] == "internal_error"


def test_when_nothing_can_be_written_the_message_goes_back(wired) -> None:
    from celery.exceptions import Reject

    tasks, _, stores = wired
    stores.fail = True

    def work(messages):
        return tasks.BundleOutcome(failed=[(m, tasks.PageFailure("empty", "the page is empty")) for m in messages])

    with pytest.raises(Reject) as rejected:
        tasks._run(_task(), "parse", [_page(0)], work)
    assert rejected.value.requeue is True


def test_a_retry_that_cannot_be_published_requeues_instead_of_dropping(wired) -> None:
    from celery.exceptions import Reject

    tasks, _, _ = wired
    task = _task()

    def retry(**kwargs):
        raise Reject("publish failed", requeue=False)  # what Celery does when it cannot publish a retry

    task.retry = retry

    def work(messages):
        raise ConnectionError("Elasticsearch is down")

    with pytest.raises(Reject) as rejected:
        tasks._run(task, "index", [_page(0)], work)
    assert rejected.value.requeue is True


def test_a_single_page_message_of_an_earlier_version_is_a_bundle_of_one() -> None:
    from workers.delivery.bundles import as_bundle

    assert as_bundle({"source": "a"}) == [{"source": "a"}]
    assert as_bundle([{"source": "a"}, {"source": "b"}]) == [{"source": "a"}, {"source": "b"}]


def test_an_empty_bundle_is_acknowledged_and_does_nothing(wired) -> None:
    tasks, _, stores = wired
    assert tasks._run(_task(), "parse", [], lambda ms: pytest.fail("the stage must not run")) is None
    assert not stores.sent and not stores.recorded
