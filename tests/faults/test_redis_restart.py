"""Redis killed (SIGKILL, AOF on) and restarted mid-run: nothing lost once the workers reconnect;
the producer either succeeds or reports exactly what it did not submit."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.faults.conftest import ROOT, Stack, pid_alive, wait_until
from tests.faults.pages import url_of, write_jsonl
from workers.config import Settings

pytestmark = pytest.mark.faults

PAGES = 500

_PRODUCER = """
import json, sys
from workers.config import get_settings
from workers.producer import submit
from workers.runtime import failure_store, progress_store
summary = submit([sys.argv[1]], settings=get_settings(), progress=progress_store(), failures=failure_store(),
                 collection=sys.argv[2])
print(json.dumps({"batch_id": summary.batch_id, "submitted": summary.submitted, "broker_error": summary.broker_error,
                  "not_submitted": summary.not_submitted}))
"""


def _restart_redis(stack: Stack, down_s: float) -> float:
    killed_at = stack.kill("redis")
    time.sleep(max(0.0, down_s - (time.monotonic() - killed_at)))
    stack.up()
    return killed_at


def test_redis_killed_and_restarted_mid_run_loses_nothing(stack: Stack, tmp_path) -> None:
    tag = "redis-restart"
    pages = write_jsonl(tmp_path / f"{tag}.jsonl", PAGES, tag)
    workers_before = stack.worker_pids()
    started = time.monotonic()
    batch_id = stack.submit(pages, collection=tag)
    wait_until(lambda: 100 <= stack.progress(batch_id)["enriched"] < PAGES - 100, timeout=120,
               what="enrich to be mid-run", interval=0.05)
    at_kill = stack.progress(batch_id)
    killed_at = _restart_redis(stack, down_s=5)
    state = stack.wait_batch(batch_id, timeout=300)
    recovered_s = time.monotonic() - killed_at

    docs = stack.docs(tag)
    urls = [d["url"] for d in docs]
    lost = PAGES - (state["indexed"] + state["failed"])
    stack.figures("redis killed+restarted (5 s down)", pages=PAGES, lost=lost, duplicated=len(urls) - len(set(urls)),
                  failed=state["failed"], done_at_kill=at_kill["indexed"], recover_s=round(recovered_s, 1),
                  total_s=round(time.monotonic() - started, 1))
    assert lost == 0 and state["failed"] == 0 and state["indexed"] == PAGES, state
    assert sorted(urls) == sorted(url_of(i, tag) for i in range(PAGES))
    assert stack.worker_pids() == workers_before and all(map(pid_alive, workers_before.values())), \
        "the workers reconnect; none dies"


def test_producer_reports_what_it_could_not_submit(stack: Stack, tmp_path) -> None:
    tag = "redis-producer"
    n = 3000
    pages = write_jsonl(tmp_path / f"{tag}.jsonl", n, tag, paragraphs=1)
    env = {**stack.env, "GLEANER_BROKER_WAIT_S": "3"}
    producer = subprocess.Popen([sys.executable, "-c", _PRODUCER, str(pages), tag], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: stack.redis.llen("parse") + stack.redis.hlen("unacked") >= 30 or producer.poll() is not None,
                   timeout=60, what="the producer to be submitting", interval=0.01)
        assert producer.poll() is None, "the producer finished before Redis could be killed"
        killed_at = stack.kill("redis")
        out, err = producer.communicate(timeout=120)  # gives up after GLEANER_BROKER_WAIT_S
        gave_up_s = time.monotonic() - killed_at
    finally:
        if producer.poll() is None:
            producer.kill()
    stack.up()
    assert producer.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    submitted, not_submitted = summary["submitted"], summary["not_submitted"]
    assert summary["broker_error"], "the producer says why it stopped"
    assert 0 < submitted < n and submitted + len(not_submitted) == n, (submitted, len(not_submitted))
    assert not_submitted == [f"{pages}#{i + 1}" for i in range(submitted, n)], "exactly the pages after the last sent"

    # Every page it counted as submitted is indexed; of the others at most the bundle in flight when
    # Redis died (its publish may have reached Redis without the producer hearing back).
    recovered_from = time.monotonic()

    def indexed_urls() -> set[str]:
        return {d["url"] for d in stack.docs(tag)}

    expected = {url_of(i, tag) for i in range(submitted)}
    wait_until(lambda: expected <= indexed_urls(), timeout=300, what="every submitted page to be indexed", interval=1)
    time.sleep(3)
    urls = indexed_urls()
    extra = urls - expected
    stack.figures("producer, redis down for good", pages=n, submitted=submitted, reported_not_submitted=len(not_submitted),
                  lost=len(expected - urls), duplicated=0, failed=0, extra_in_flight=len(extra),
                  producer_gave_up_s=round(gave_up_s, 1), recover_s=round(time.monotonic() - recovered_from, 1))
    bundle = int(stack.env.get("GLEANER_BUNDLE_PAGES", Settings.model_fields["bundle_pages"].default))
    assert extra <= {url_of(i, tag) for i in range(submitted, submitted + bundle)}, extra


def test_producer_rides_out_a_short_redis_restart(stack: Stack, tmp_path) -> None:
    tag = "redis-producer-ok"
    n = 3000
    pages = write_jsonl(tmp_path / f"{tag}.jsonl", n, tag, paragraphs=1)
    producer = subprocess.Popen([sys.executable, "-c", _PRODUCER, str(pages), tag], env=stack.env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: stack.redis.llen("parse") + stack.redis.hlen("unacked") >= 30 or producer.poll() is not None,
                   timeout=60, what="the producer to be submitting", interval=0.01)
        assert producer.poll() is None, "the producer finished before Redis could be killed"
        killed_at = _restart_redis(stack, down_s=3)  # within GLEANER_BROKER_WAIT_S (30 s)
        out, err = producer.communicate(timeout=180)
    finally:
        if producer.poll() is None:
            producer.kill()
    assert producer.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["broker_error"] is None and summary["submitted"] == n and not summary["not_submitted"]
    state = stack.wait_batch(summary["batch_id"], timeout=600)
    urls = [d["url"] for d in stack.docs(tag)]
    lost = n - (state["indexed"] + state["failed"])
    stack.figures("producer, redis restarted (3 s down)", pages=n, lost=lost, duplicated=len(urls) - len(set(urls)),
                  failed=state["failed"], recover_s=round(time.monotonic() - killed_at, 1))
    assert lost == 0 and state["failed"] == 0 and sorted(set(urls)) == sorted(url_of(i, tag) for i in range(n))
    assert len(urls) == n
