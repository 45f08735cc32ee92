"""Fault tests run against their own private stack, never the shared one.

The ``stack`` fixture starts Redis, an Elasticsearch node and the three worker pools with
``ops/stack.sh up`` under a temporary ``GLEANER_STACK_DIR`` on other ports (Redis 6391,
Elasticsearch 9211 unless ``GLEANER_FAULTS_REDIS_PORT`` / ``GLEANER_FAULTS_ES_PORT`` say otherwise),
with timings shortened for tests. The tests kill its processes by the pids in its own pid files
only, and ``ops/stack.sh down`` stops it at the end. Nothing here imports ``workers.delivery.app``
(whose configuration is read once per process): the tests talk to the private stack through their
own Redis and Elasticsearch clients and through ``gleaner`` subprocesses with the private
environment.

Each test records its figures (pages, lost, duplicated, failed, time to recover) with
``stack.figures``; they are printed at the end of the run and written to ``figures.json`` in the
stack directory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import batch_id_in, wait_until  # noqa: F401 - wait_until is used by the fault tests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STACK_SH = ROOT / "ops" / "stack.sh"
ES_SH = ROOT / "ops" / "es.sh"
WORKERS = ("parse", "enrich", "index")

# Timings of the private stack: short enough for tests, same mechanisms as production.
TEST_SETTINGS = {
    "GLEANER_CONSUMER_LEASE_S": "6",  # a killed worker's messages are requeued ~6-8 s after it dies
    "GLEANER_MAX_REDELIVERIES": "3",
    "GLEANER_BROKER_WAIT_S": "30",
    "GLEANER_TASK_SOFT_TIME_LIMIT_S": "20",
    "GLEANER_TASK_HARD_TIME_LIMIT_S": "45",
    "GLEANER_RETRY_BACKOFF_MAX_S": "15",  # visibility timeout = 45 + 15 + 300 s
    "GLEANER_MAX_RETRIES": "20",  # 20 retries capped at 15 s: rides out a 60 s Elasticsearch outage
    "GLEANER_FAULT_INJECTION": "1",
    "GLEANER_ENRICH_CONCURRENCY": "2",
    "GLEANER_INDEX_CONCURRENCY": "32",
    "GLEANER_INDEX_FLUSH_S": "0.5",
    "GLEANER_ES_HEAP": "512m",
    "GLEANER_LOG_JSON": "false",
}

_FIGURES: list[dict[str, Any]] = []


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def pid_alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (FileNotFoundError, IndexError, ValueError):
                continue
    return kids


@dataclass
class Stack:
    dir: Path
    env: dict[str, str]
    redis_port: int
    es_port: int
    started: float = field(default_factory=time.monotonic)

    # --- clients -------------------------------------------------------------------------

    @property
    def redis(self):
        import redis

        if not hasattr(self, "_redis"):
            self._redis = redis.Redis(port=self.redis_port, socket_timeout=10, socket_connect_timeout=2)
        return self._redis

    @property
    def es(self):
        from elasticsearch import Elasticsearch

        if not hasattr(self, "_es"):
            self._es = Elasticsearch(f"http://127.0.0.1:{self.es_port}", request_timeout=30)
        return self._es

    # --- processes -----------------------------------------------------------------------

    def pid(self, name: str) -> int | None:
        path = self.dir / "pids" / name
        try:
            return int(path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def stack_sh(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(STACK_SH), *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)

    def up(self) -> None:
        result = self.stack_sh("up")
        assert result.returncode == 0, f"ops/stack.sh up failed:\n{result.stdout}\n{result.stderr}"

    def kill(self, name: str, *, with_children: bool = True) -> float:
        """SIGKILL a process of this stack (and its children, like a container dying); returns when it is
        gone, with the time of the kill."""
        pid = self.pid(name)
        assert pid and pid_alive(pid), f"{name} is not running"
        kids = children_of(pid) if with_children else []
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        for kid in kids:
            try:
                os.kill(kid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        while any(pid_alive(p) for p in (pid, *kids)):
            assert time.monotonic() < deadline, f"{name} (pid {pid}) did not die"
            time.sleep(0.05)
        return killed_at

    def worker_pids(self) -> dict[str, int | None]:
        return {w: self.pid(f"worker-{w}") for w in WORKERS}

    def log(self, name: str) -> str:
        path = self.dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_size(self, name: str) -> int:
        path = self.dir / "logs" / f"{name}.log"
        return path.stat().st_size if path.exists() else 0

    def log_since(self, name: str, offset: int) -> str:
        path = self.dir / "logs" / f"{name}.log"
        with path.open("rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")

    # --- the broker's consumers ----------------------------------------------------------

    def consumers(self) -> dict[str, dict[str, Any]]:
        """Live consumers of the private broker: consumer id -> registry info."""
        out = {}
        for cid, info in self.redis.hgetall("gleaner:broker:consumers").items():
            cid = cid.decode()
            if self.redis.exists(f"gleaner:broker:alive:{cid}"):
                out[cid] = json.loads(info)
        return out

    def consumer_of(self, stage: str) -> str | None:
        pid = self.pid(f"worker-{stage}")
        for cid, info in self.consumers().items():
            if info.get("queue") == stage and info.get("pid") == pid:
                return cid
        return None

    def held_by(self, stage: str) -> int:
        cid = self.consumer_of(stage)
        return int(self.redis.scard(f"gleaner:broker:held:{cid}")) if cid else 0

    def wait_ready(self, timeout: float = 180) -> None:
        """Until each stage has a live consumer in the current worker process."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if all(self.consumer_of(stage) for stage in WORKERS):
                    return
            except Exception:  # noqa: BLE001 - Redis may still be starting
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"private stack not ready; logs in {self.dir / 'logs'}")
            time.sleep(0.5)

    # --- gleaner -------------------------------------------------------------------------

    def gleaner(self, *args: str, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "gleaner"), *args], capture_output=True, text=True, timeout=timeout,
                              env={**self.env, "COLUMNS": "200", **(env or {})}, cwd=ROOT)

    def submit(self, *paths: str | Path, collection: str) -> str:
        result = self.gleaner("submit", *map(str, paths), "--collection", collection, "--plain")
        assert result.returncode == 0, result.stderr
        return batch_id_of(result.stderr)

    def progress(self, batch_id: str) -> dict[str, int]:
        raw = {k.decode(): v.decode() for k, v in self.redis.hgetall(f"gleaner:batch:{batch_id}").items()}
        out = {k: int(raw.get(k) or 0) for k in ("submitted", "parsed", "enriched", "indexed", "failed")}
        out["done_submitting"] = int(raw.get("done_submitting") == "1")
        return out

    def wait_batch(self, batch_id: str, timeout: float = 300) -> dict[str, int]:
        """Until every page of the batch is indexed or failed; returns its progress."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                state = self.progress(batch_id)
                if state["done_submitting"] and state["indexed"] + state["failed"] >= state["submitted"]:
                    return state
            except Exception:  # noqa: BLE001 - Redis may be restarting
                state = None
            if time.monotonic() > deadline:
                pytest.fail(f"batch {batch_id} not finished after {timeout:.0f}s: {state}; logs in {self.dir / 'logs'}")
            time.sleep(0.25)

    def docs(self, collection: str) -> list[dict[str, Any]]:
        from elasticsearch import helpers

        self.es.indices.refresh(index="pages")
        return [{"_id": h["_id"], **h["_source"]} for h in helpers.scan(
            self.es, index="pages", query={"query": {"term": {"collection": collection}}},
            _source=["url", "source", "batch_id", "fetched_at", "title", "body", "collection"])]

    def failures(self) -> list[dict[str, Any]]:
        result = self.gleaner("failures", "list", "--json")
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def figures(self, test: str, **values: Any) -> None:
        entry = {"test": test, **values}
        _FIGURES.append(entry)
        with (self.dir / "figures.json").open("a") as fh:
            fh.write(json.dumps(entry) + "\n")


def batch_id_of(stderr: str) -> str:
    return batch_id_in(stderr)


@pytest.fixture(scope="session")
def stack(request) -> Stack:
    redis_port = int(os.environ.get("GLEANER_FAULTS_REDIS_PORT", "6391"))
    es_port = int(os.environ.get("GLEANER_FAULTS_ES_PORT", "9211"))
    for port in (redis_port, es_port):
        if not _port_free(port):
            pytest.fail(f"port {port} is in use: the fault tests need it for their private stack "
                        "(set GLEANER_FAULTS_REDIS_PORT / GLEANER_FAULTS_ES_PORT)")
    directory = Path(tempfile.mkdtemp(prefix="gleaner-faults-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLEANER_")}
    env.update(TEST_SETTINGS)
    env.update({
        "GLEANER_STACK_DIR": str(directory),
        "GLEANER_REDIS_PORT": str(redis_port),
        "GLEANER_ES_PORT": str(es_port),
        "GLEANER_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "GLEANER_ES_URL": f"http://127.0.0.1:{es_port}",
        "GLEANER_VENV": str(BIN.parent),
    })
    s = Stack(dir=directory, env=env, redis_port=redis_port, es_port=es_port)
    try:
        s.up()
        s.wait_ready()
        yield s
    finally:
        s.stack_sh("down", timeout=180)
        failed = request.session.testsfailed
        if failed or os.environ.get("GLEANER_FAULTS_KEEP"):
            sys.stderr.write(f"\nfault-test stack kept for inspection: {directory}\n")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def pytest_terminal_summary(terminalreporter) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("fault test figures")
    for entry in _FIGURES:
        terminalreporter.write_line("  ".join(f"{k}={v}" for k, v in entry.items()))
