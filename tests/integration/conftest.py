"""Integration tests run against the real local stack: redis-server, an Elasticsearch node and
the three Celery worker pools, started by ``ops/stack.sh up`` (``make test`` does it first)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import batch_id_in

ROOT = Path(__file__).resolve().parents[2]
GLEANER = str(Path(sys.executable).with_name("gleaner"))


def _stack_is_up() -> bool:
    from workers.delivery.queues import workers_by_queue
    from workers.runtime import es_client, redis_client

    try:
        redis_client().ping()
        es_client().cluster.health(wait_for_status="yellow", timeout="5s")
    except Exception:  # noqa: BLE001
        return False
    return all(workers_by_queue(timeout=2.0).values())


@pytest.fixture(scope="session", autouse=True)
def stack() -> None:
    if not _stack_is_up():
        subprocess.run([str(ROOT / "ops" / "stack.sh"), "up"], check=True)
    deadline = time.monotonic() + 120
    while not _stack_is_up():
        if time.monotonic() > deadline:
            pytest.fail("the local stack did not come up: see .stack/logs/")
        time.sleep(2)


@pytest.fixture(scope="session")
def es():
    from workers.runtime import es_client

    return es_client()


@pytest.fixture(scope="session")
def alias() -> str:
    from workers.config import get_settings

    return get_settings().index_alias


@pytest.fixture
def collection() -> str:
    return f"it-{uuid.uuid4().hex[:8]}"


def gleaner(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([GLEANER, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def batch_id_of(result: subprocess.CompletedProcess[str]) -> str:
    return batch_id_in(result.stderr)


def docs_of_batch(es, alias: str, batch_id: str) -> list[dict]:
    es.indices.refresh(index=alias)
    resp = es.search(index=alias, query={"term": {"batch_id": batch_id}}, size=1000)
    return [{"_id": h["_id"], **h["_source"]} for h in resp["hits"]["hits"]]


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
