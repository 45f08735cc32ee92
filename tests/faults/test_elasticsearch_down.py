"""Elasticsearch down for 60 s mid-run: nothing lost, everything indexed after it returns, with no
manual step; the index stage's retries back off with jitter, below the broker's visibility timeout."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from tests.faults.conftest import ES_SH, ROOT, TEST_SETTINGS, Stack, wait_until
from tests.faults.evidence import account
from tests.faults.pages import markers, url_of, write_jsonl

pytestmark = pytest.mark.faults

PAGES = 500
DOWN_S = 60


def test_elasticsearch_down_for_a_minute_loses_nothing(stack: Stack, tmp_path) -> None:
    tag = "es-down"
    pages = write_jsonl(tmp_path / f"{tag}.jsonl", PAGES, tag)
    offset = stack.log_size("worker-index")
    started = time.monotonic()
    batch_id = stack.submit(pages, collection=tag)
    wait_until(lambda: 50 <= stack.progress(batch_id)["indexed"] < PAGES - 200, timeout=120,
               what="indexing to be mid-run", interval=0.05)
    at_kill = stack.progress(batch_id)
    killed_at = stack.kill("elasticsearch")
    time.sleep(DOWN_S - (time.monotonic() - killed_at))
    restarted = subprocess.run([str(ES_SH), "start"], env=stack.env, cwd=ROOT, capture_output=True, text=True,
                               timeout=300)
    assert restarted.returncode == 0, restarted.stderr
    es_back = time.monotonic()

    acc = account(stack.es, stack.redis, markers(PAGES, tag), deadline_s=400)
    done = time.monotonic()
    state = stack.progress(batch_id)
    urls = [d["url"] for d in stack.docs(tag)]

    log = stack.log_since("worker-index", offset)
    # (retries so far, countdown) of each retry the index stage scheduled.
    retries = [(int(n or 0), float(c)) for c, n in re.findall(
        r"gleaner\.worker: retrying .*?countdown_s=([0-9.]+)(?: task_id=\S+)?(?: retries=(\d+))?", log)]
    countdowns = [c for _, c in retries]
    backoff_max = float(TEST_SETTINGS["GLEANER_RETRY_BACKOFF_MAX_S"])
    visibility = (float(TEST_SETTINGS["GLEANER_TASK_HARD_TIME_LIMIT_S"]) + backoff_max + 300)
    stack.figures("elasticsearch down 60 s", **acc.figures(), counted_indexed=state["indexed"],
                  indexed_at_kill=at_kill["indexed"], down_s=round(es_back - killed_at, 1),
                  recover_s=round(done - es_back, 1), retries=len(countdowns),
                  max_countdown_s=max(countdowns, default=0), total_s=round(done - started, 1))

    assert acc.lost == [] and acc.duplicated == [] and acc.both == [], acc.figures()
    assert acc.n_indexed == PAGES and acc.failed == {}, acc.figures()
    assert state["indexed"] == PAGES and state["failed"] == 0, state
    assert sorted(urls) == sorted(url_of(i, tag) for i in range(PAGES))
    assert not re.search(r"retries_exhausted|rejected", log)
    # Exponential backoff with jitter: each countdown in [0.5, 1] x min(cap, 2**retries), spread out;
    # the cap below the visibility timeout.
    assert countdowns, "the index stage retried while Elasticsearch was down"
    assert max(countdowns) <= backoff_max < visibility
    for n, countdown in retries:
        step = min(backoff_max, 2**n)
        assert 0.5 * step - 0.01 <= countdown <= step + 0.01, (n, countdown)
    by_step: dict[int, list[float]] = {}
    for n, countdown in retries:
        by_step.setdefault(n, []).append(countdown)
    for n, values in by_step.items():
        if len(values) >= 20:
            assert max(values) - min(values) > 0.2 * min(backoff_max, 2**n), f"no jitter at retry {n}"
