"""Redis killed (SIGKILL, AOF on) and restarted mid-run: nothing lost once the workers reconnect;
the producer either succeeds or reports exactly what it did not submit. (Redis gone for good, never
restarted: ``test_redis_gone.py``.)"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.faults.conftest import ROOT, Stack, pid_alive, wait_until
from tests.faults.evidence import account, look_up
from tests.faults.pages import markers, url_of, write_jsonl
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
    acc = account(stack.es, stack.redis, markers(PAGES, tag), deadline_s=300)
    recovered_s = time.monotonic() - killed_at
    state = stack.progress(batch_id)

    urls = [d["url"] for d in stack.docs(tag)]
    stack.figures("redis killed+restarted (5 s down)", **acc.figures(), counted_indexed=state["indexed"],
                  done_at_kill=at_kill["indexed"], recover_s=round(recovered_s, 1),
                  total_s=round(time.monotonic() - started, 1))
    assert acc.lost == [] and acc.duplicated == [] and acc.both == [], acc.figures()
    assert acc.n_indexed == PAGES and acc.failed == {}, acc.figures()
    assert state["indexed"] == PAGES and state["failed"] == 0, state
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
    acc = account(stack.es, stack.redis, markers(submitted, tag), deadline_s=300)
    in_flight = markers(n - submitted, tag, start=submitted)
    extra = look_up(stack.es, stack.redis, in_flight)
    stack.figures("producer, redis down past its wait, then back", **acc.figures(), submitted_of=n,
                  reported_not_submitted=len(not_submitted), extra_in_flight=extra.n_indexed,
                  producer_gave_up_s=round(gave_up_s, 1), recover_s=round(time.monotonic() - recovered_from, 1))
    assert acc.lost == [] and acc.duplicated == [] and acc.both == [] and acc.n_indexed == submitted, acc.figures()
    bundle = int(stack.env.get("GLEANER_BUNDLE_PAGES", Settings.model_fields["bundle_pages"].default))
    assert set(extra.indexed) <= set(markers(bundle, tag, start=submitted)), sorted(extra.indexed)
    assert extra.duplicated == [], extra.figures()


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
    acc = account(stack.es, stack.redis, markers(n, tag), deadline_s=600)
    state = stack.progress(summary["batch_id"])
    urls = [d["url"] for d in stack.docs(tag)]
    stack.figures("producer, redis restarted (3 s down)", **acc.figures(), counted_indexed=state["indexed"],
                  recover_s=round(time.monotonic() - killed_at, 1))
    assert acc.lost == [] and acc.duplicated == [] and acc.both == [], acc.figures()
    assert acc.n_indexed == n and acc.failed == {}, acc.figures()
    assert state["indexed"] == n and state["failed"] == 0, state
    assert sorted(urls) == sorted(url_of(i, tag) for i in range(n))
