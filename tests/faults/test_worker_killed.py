"""A worker killed with SIGKILL mid-run (parse, enrich, index in turn, 500 distinct pages each):
nothing lost, nothing duplicated; and a page that kills its worker every time becomes a failure."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.faults.conftest import Stack, pid_alive, wait_until
from tests.faults.evidence import account
from tests.faults.pages import marker, markers, url_of, write_jsonl
from workers.config import Settings

pytestmark = pytest.mark.faults

PAGES = 500


def _requeued(log: str) -> tuple[int, int, float | None]:
    """(unacked, fetched) messages the lease sweep requeued, and when (epoch s), from the workers' logs."""
    unacked = fetched = 0
    when = None
    for line in log.splitlines():
        if "is gone: requeued" in line:
            words = line.split("requeued", 1)[1].split()
            unacked += int(words[0])
            fetched += int(words[3])
            stamp = datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            when = stamp if when is None else min(when, stamp)
    return unacked, fetched, when


# min_held: messages (bundles of up to GLEANER_BUNDLE_PAGES pages) the worker holds when killed.
@pytest.mark.parametrize(("stage", "min_held"), [("parse", 1), ("enrich", 2), ("index", 1)])
def test_worker_killed_mid_run_loses_and_duplicates_nothing(stack: Stack, tmp_path, stage: str, min_held: int) -> None:
    tag = f"kill-{stage}"
    pages = write_jsonl(tmp_path / f"{tag}.jsonl", PAGES, tag)
    offsets = {w: stack.log_size(f"worker-{w}") for w in ("parse", "enrich", "index")}
    started = time.monotonic()
    batch_id = stack.submit(pages, collection=tag)

    # Mid-run: the stage has done some pages, not all, and its worker holds messages unacknowledged.
    done_field = {"parse": "parsed", "enrich": "enriched", "index": "indexed"}[stage]
    wait_until(lambda: 50 <= stack.progress(batch_id)[done_field] < PAGES - 50 and stack.held_by(stage) >= min_held,
               timeout=120, what=f"{stage} to be mid-run", interval=0.02)
    consumer = stack.consumer_of(stage)
    at_kill = stack.progress(batch_id)
    killed_at = stack.kill(f"worker-{stage}")
    # What the dead worker still holds: unacknowledged messages and its landing list, which the
    # lease sweep must put back. The test is about a worker killed while holding messages.
    held = int(stack.redis.scard(f"gleaner:broker:held:{consumer}")) + int(
        stack.redis.llen(f"gleaner:broker:landing:{consumer}"))
    assert held >= 1, "the worker was killed while holding messages (precondition of this test)"
    killed_wall = time.time() - (time.monotonic() - killed_at)
    stack.up()  # what a supervisor (compose's restart policy) does

    def requeued() -> tuple[int, int, float | None]:
        return _requeued("".join(stack.log_since(f"worker-{w}", offsets[w]) for w in offsets))

    # The dead worker may have written its pages before it died, so the batch can finish before its
    # lease runs out: the sweep must still put its messages back, and they run again.
    wait_until(lambda: sum(requeued()[:2]) >= 1, timeout=120, what="the lease sweep to requeue", interval=0.5)
    wait_until(lambda: stack.redis.llen(stage) == 0 and stack.held_by(stage) == 0, timeout=180,
               what=f"the requeued {stage} messages to run", interval=0.5)
    # Every page looked up by its marker in the index and the failure store.
    acc = account(stack.es, stack.redis, markers(PAGES, tag), deadline_s=300)
    recovered_s = time.monotonic() - killed_at
    state = stack.progress(batch_id)
    unacked, fetched, requeued_at = requeued()
    stack.figures(f"worker killed: {stage}", **acc.figures(), held_at_kill=held, requeued=unacked + fetched,
                  done_at_kill=at_kill[done_field], counted_indexed=state["indexed"], counted_failed=state["failed"],
                  requeued_after_s=round(requeued_at - killed_wall, 1) if requeued_at else None,
                  recover_s=round(recovered_s, 1), total_s=round(time.monotonic() - started, 1))

    assert acc.lost == [] and acc.duplicated == [] and acc.both == [], acc.figures()
    assert acc.n_indexed == PAGES and acc.failed == {}, acc.figures()
    assert unacked + fetched >= 1, "the killed worker held messages: the lease sweep must have requeued them"
    # The batch's own counters agree with what was found.
    assert state["indexed"] == PAGES and state["failed"] == 0, state
    docs = stack.docs(tag)
    assert sorted(d["url"] for d in docs) == sorted(url_of(i, tag) for i in range(PAGES))
    assert all(d["batch_id"] == batch_id for d in docs)
    # Each stage ran about once per page (a chain dispatched twice would double these); what the
    # dead worker held may run again.
    again = held * int(stack.env.get("GLEANER_BUNDLE_PAGES", Settings.model_fields["bundle_pages"].default))
    assert PAGES <= state["parsed"] <= PAGES + again and PAGES <= state["enriched"] <= PAGES + again, state


def test_a_page_that_kills_its_worker_every_time_becomes_a_failure(stack: Stack, tmp_path) -> None:
    tag = "poison"
    pages = write_jsonl(tmp_path / f"{tag}.jsonl", 20, tag)
    # The URL of page 13 kills the parse worker process that takes it.
    stack.redis.set("gleaner:fault:kill:parse", url_of(13, tag))
    parse_main = stack.pid("worker-parse")
    started = time.monotonic()
    try:
        batch_id = stack.submit(pages, collection=tag)
        acc = account(stack.es, stack.redis, markers(20, tag), deadline_s=240)
    finally:
        stack.redis.delete("gleaner:fault:kill:parse")
    elapsed = time.monotonic() - started
    state = stack.progress(batch_id)

    assert pid_alive(parse_main), "the parse worker's main process survives its children being killed"
    kills = stack.log("worker-parse").count("fault injection: killing this worker process")
    stack.figures("poison page", **acc.figures(), worker_kills=kills, recover_s=round(elapsed, 1))
    assert acc.lost == [] and acc.duplicated == [] and acc.both == [], acc.figures()
    assert set(acc.failed) == {marker(13, tag)} and acc.n_indexed == 19, acc.figures()
    assert state["indexed"] == 19 and state["failed"] == 1, state
    (record,) = [r for r in stack.failures() if r.get("collection") == tag]
    assert record["stage"] == "parse" and record["error"] == "poison_page"
    assert "died" in record["reason"] and record["attempts"] >= 4
    assert record["url"] == url_of(13, tag) and record["batch_id"] == batch_id
    assert acc.failed[marker(13, tag)][0]["id"] == record["id"], "the record found by the page's text is this one"

    # The failure store: show, then retry it end to end once the fault is gone.
    shown = stack.gleaner("failures", "show", record["id"], "--json")
    assert shown.returncode == 0, shown.stderr
    assert {"stage", "reason", "attempts", "first_failed_at", "last_failed_at", "collection"} <= set(
        __import__("json").loads(shown.stdout.splitlines()[0]))
    retried = stack.gleaner("failures", "retry", record["id"])
    assert retried.returncode == 0 and "resubmitted 1" in retried.stderr, retried.stderr
    wait_until(lambda: any(d["url"] == url_of(13, tag) for d in stack.docs(tag)), timeout=120,
               what="the retried page to be indexed", interval=1)
    after = account(stack.es, stack.redis, markers(20, tag), deadline_s=60)
    assert after.n_indexed == 20 and after.failed == {} and after.duplicated == [], after.figures()
    assert not [r for r in stack.failures() if r.get("collection") == tag]
