"""Redis gone for good: a real ``redis-server`` of the test's own, killed mid-work and never started
again. The producer and the stages' tasks wait ``GLEANER_BROKER_WAIT_S`` for it, then give up and
say so: the producer which pages it did not submit (and exits 1), a task that its message goes back
to the queue (``Reject(requeue=True)``), after having done its work once (at-least-once).

The fault stack's own Redis is not touched: these tests start a Redis on a free port next to it
(the documents still go to the fault stack's Elasticsearch)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.faults.conftest import ROOT, Stack, pid_alive, wait_until
from tests.faults.evidence import look_up
from tests.faults.pages import article, marker, url_of, write_jsonl

pytestmark = pytest.mark.faults

WAIT_S = 3.0
# kombu's publish retries run past the wait by up to one interval (2 s); then the report.
MARGIN_S = 12.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def lone_redis(directory: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """A redis-server of this test's own (no persistence), stopped at the end if still running."""
    port = _free_port()
    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(directory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port, socket_connect_timeout=1)
        wait_until(lambda: _pings(client), timeout=20, what="the lone redis-server to start", interval=0.1)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - not up yet
        return False


def _stop_for_good(proc: subprocess.Popen) -> float:
    """SIGKILL the lone Redis (as a crashed host would lose it); it is never started again."""
    killed_at = time.monotonic()
    proc.kill()
    proc.wait(10)
    assert not pid_alive(proc.pid)
    return killed_at


def _env(stack: Stack, port: int) -> dict[str, str]:
    return {**stack.env, "GLEANER_REDIS_URL": f"redis://127.0.0.1:{port}/0", "GLEANER_BROKER_WAIT_S": str(WAIT_S),
            "GLEANER_FAULT_INJECTION": "0", "COLUMNS": "200"}


def test_producer_gives_up_and_reports_what_it_did_not_submit(stack: Stack, tmp_path) -> None:
    tag = "redis-gone-producer"
    n = 3000
    pages = write_jsonl(tmp_path / f"{tag}.jsonl", n, tag, paragraphs=1)
    with lone_redis(tmp_path / "redis") as (redis_proc, port):
        import redis

        client = redis.Redis(port=port)
        producer = subprocess.Popen([str(Path(sys.executable).parent / "gleaner"), "submit", str(pages), "--plain"],
                                    env=_env(stack, port), cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
        try:
            # Nobody consumes this Redis: the parse queue only grows.
            wait_until(lambda: client.llen("parse") >= 10 or producer.poll() is not None, timeout=60,
                       what="the producer to be submitting", interval=0.01)
            assert producer.poll() is None, "the producer finished before Redis could be stopped"
            queued = int(client.llen("parse"))
            killed_at = _stop_for_good(redis_proc)
            out, _ = producer.communicate(timeout=120)
            gave_up_s = time.monotonic() - killed_at
        finally:
            if producer.poll() is None:
                producer.kill()
        assert redis_proc.poll() is not None, "Redis stayed down"

    m = re.search(r"submitted ([\d,]+) pages", out)
    assert m, out
    submitted = int(m.group(1).replace(",", ""))
    stack.figures("producer, redis gone for good", pages=n, bundles_queued_before_stop=queued, submitted=submitted,
                  not_submitted=n - submitted, exit_code=producer.returncode, gave_up_s=round(gave_up_s, 1))
    assert producer.returncode == 1, out
    assert 0 < submitted < n, out
    first_missing = f"{pages}#{submitted + 1}"
    assert f"{n - submitted:,} pages could not be enqueued" in out and f"from {first_missing} on" in out, out
    assert "Redis" in out or "Connection" in out or "Error" in out, out
    assert WAIT_S <= gave_up_s <= WAIT_S + MARGIN_S, f"gave up {gave_up_s:.1f}s after Redis went (wait {WAIT_S}s)"


_RUN_TASK = """
import json, sys, time
from workers import tasks
stage, path = sys.argv[1], sys.argv[2]
bundle = json.load(open(path))
task = tasks.TASKS[stage]
task.apply(args=([],))  # imports and connections made before the clock starts
started = time.monotonic()
result = task.apply(args=(bundle,))
exc = result.result if isinstance(result.result, BaseException) else None
print(json.dumps({"state": result.state, "raised": type(exc).__name__ if exc else None,
                  "requeue": getattr(exc, "requeue", None), "reason": str(getattr(exc, "reason", exc)),
                  "elapsed_s": time.monotonic() - started}))
"""


def _stage_bundle(stack: Stack, stage: str, tag: str, tmp_path: Path) -> list[dict]:
    """One page's message for ``stage``: its packed raw page (parse), or its document as the enrich
    stage sends it (index; made by ``gleaner process``, all stages in one process)."""
    from workers.config import get_settings
    from workers.messages import pack_page
    from workers.models import RawPage
    from workers.stages.fingerprints import normalize_text
    from workers.stages.urls import document_id

    if stage == "parse":
        _, html = article(0, tag)
        page = RawPage(content=html.encode(), source=f"{tag}.html", kind="html", url=url_of(0, tag), collection=tag)
        return [pack_page(page, batch_id=f"{tag}-batch", seq=0, max_bytes=get_settings().max_page_bytes)
                .model_dump(mode="json", exclude_none=True)]
    jsonl = write_jsonl(tmp_path / f"{tag}.jsonl", 1, tag)
    made = stack.gleaner("process", str(jsonl), timeout=300)
    assert made.returncode == 0, made.stderr
    document = json.loads(made.stdout.strip().splitlines()[-1])
    document.update(collection=tag, batch_id=f"{tag}-batch")
    return [{"doc_id": document_id(document["url"], normalize_text(document["body"])), "document": document, "seq": 0}]


@pytest.mark.parametrize("stage", ["parse", "index"])
def test_a_task_gives_its_message_back_when_redis_is_gone(stack: Stack, tmp_path, stage: str) -> None:
    tag = f"redis-gone-{stage}"
    bundle = _stage_bundle(stack, stage, tag, tmp_path)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    with lone_redis(tmp_path / "redis") as (redis_proc, port):
        _stop_for_good(redis_proc)
        run = subprocess.run([sys.executable, "-c", _RUN_TASK, stage, str(path)], env=_env(stack, port), cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert redis_proc.poll() is not None, "Redis stayed down"
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    found = look_up(stack.es, stack.redis, [marker(0, tag)])
    stack.figures(f"{stage} task, redis gone for good", state=outcome["state"], requeue=outcome["requeue"],
                  gave_up_s=round(outcome["elapsed_s"], 1), documents=len(found.indexed.get(marker(0, tag), [])))

    assert outcome["state"] == "REJECTED" and outcome["raised"] == "Reject" and outcome["requeue"] is True, outcome
    assert "Redis unreachable" in outcome["reason"] or "cannot publish" in outcome["reason"], outcome
    assert WAIT_S <= outcome["elapsed_s"] <= WAIT_S + MARGIN_S, outcome
    assert "cannot complete the bundle, giving its message back" in run.stderr, run.stderr[-2000:]
    # Nothing was written: the parse stage's next message could not be published, and the index
    # stage cannot place a document in its near-duplicate cluster without Redis (it never writes one
    # without it). The message comes back and runs once a Redis is there (at-least-once).
    assert found.indexed == {}, found.figures()
