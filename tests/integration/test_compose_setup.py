"""The compose stack's one-shot steps run here against the real local stack, and the workers'
Elasticsearch role is checked against what the real workers request.

* ``ops/compose/setup.py`` against the local Elasticsearch node and Redis: the node has no security
  API (ops/elasticsearch/README.md), so ``SETUP_SECURITY=false`` skips the users and roles (their
  logic is tested against a stand-in in tests/unit/test_compose_setup.py); the rest runs for real:
  template, alias, failures index filled from Redis, and a second run that changes no cluster state.
* ``ops/compose/kibana_import.py`` with Kibana absent (bounded wait, its message), then a small
  local server answering 503 before 200 (the wait and the retry), then refused credentials.
* The three worker pools start with the environment ``docker-compose.yml`` gives them, each behind
  its own recording proxy; every request they make while pages go through (one fails) is mapped to
  the privileges it needs, and ``ops/compose/security.json``'s ``gleaner_writer`` must grant exactly
  those. ``gleaner_admin`` must grant what setup and the operator's commands request.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.compose_files import ENV_EXAMPLE, load_compose, load_setup_module, parse_env_file
from tests.es_requests import RecordingProxy, Requirement, missing_privileges, requirements, unneeded_privileges
from tests.helpers import batch_id_in, wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FIXTURES = ROOT / "tests" / "fixtures"
SECRET = "a/b#c?d%e@f:g$h'i\"j k-hostile"
PRIVATE_DB = 11  # this file's own Redis database: its queues and failures stay apart from the stack's


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GLEANER_")}


def _redis_url(db: int) -> str:
    from workers.config import get_settings

    return get_settings().redis_url.rsplit("/", 1)[0] + f"/{db}"


def _es_url() -> str:
    from workers.config import get_settings

    return get_settings().es_url


@pytest.fixture
def private_redis() -> Iterator[str]:
    import redis

    url = _redis_url(PRIVATE_DB)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def test_alias(es) -> Iterator[str]:
    alias = f"compose-it-{uuid.uuid4().hex[:8]}"
    yield alias
    names = list(es.indices.get(index=f"{alias}-*", allow_no_indices=True, expand_wildcards="all").body)
    if names:
        es.indices.delete(index=",".join(names))
    es.options(ignore_status=404).indices.delete_index_template(name=f"gleaner-{alias}")


def _cluster_state(es) -> tuple[int, str]:
    state = es.cluster.state(metric="version,metadata", filter_path="version,state_uuid").body
    return state["version"], state["state_uuid"]


def _run_setup(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, str(ROOT / "ops" / "compose" / "setup.py")], env=env, cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    return done  # `gleaner setup` prints on stderr: both in stdout, in order


def _setup_env(es_url: str, redis_url: str, alias: str) -> dict[str, str]:
    return {**_base_env(), "SETUP_SECURITY": "false", "GLEANER_ES_URL": es_url, "GLEANER_REDIS_URL": redis_url,
            "GLEANER_INDEX_ALIAS": alias, "GLEANER_ES_WRITER_PASSWORD": SECRET + "-w",
            "GLEANER_ES_ADMIN_PASSWORD": SECRET + "-a", "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}


def test_setup_fills_the_failures_index_from_redis_and_a_second_run_changes_nothing(es, private_redis, test_alias):
    import redis

    from workers.store.failure_index import FAILURES_INDEX
    from workers.store.failures import FailureStore

    record = FailureStore(redis.Redis.from_url(private_redis)).record(
        stage="parse", reason="no main content", error="empty_after_cleaning", source=f"compose-it/{test_alias}.html",
        url=f"https://example.org/{test_alias}", collection="compose-it", batch_id=test_alias, payload=None)
    env = _setup_env(_es_url(), private_redis, test_alias)
    first = _run_setup(env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"alias '{test_alias}' created" in first.stdout and "1 failure records copied" in first.stdout
    assert es.indices.exists_alias(name=test_alias)
    assert es.indices.exists_index_template(name=f"gleaner-{test_alias}")
    es.indices.refresh(index=FAILURES_INDEX)
    assert es.get(index=FAILURES_INDEX, id=record.id)["_source"]["batch_id"] == test_alias

    before = _cluster_state(es)
    second = _run_setup(env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"alias '{test_alias}' exists" in second.stdout
    assert _cluster_state(es) == before, "a second setup changed the cluster state"


def test_setup_refuses_example_values_before_touching_anything(es, private_redis, test_alias):
    env = {**_setup_env(_es_url(), private_redis, test_alias), "GLEANER_ES_WRITER_PASSWORD": "change-me-writer"}
    done = _run_setup(env)
    assert done.returncode == 2
    assert "GLEANER_ES_WRITER_PASSWORD is still the example value 'change-me-writer': change it in .env" in done.stdout
    assert not es.indices.exists_alias(name=test_alias)


# --- Kibana import --------------------------------------------------------------------------

class KibanaStandIn(ThreadingHTTPServer):
    """Answers like a starting Kibana: 503 "not ready yet" for ``not_ready_s``, then available;
    the first import is refused with a 503 too, then taken."""

    daemon_threads = True

    def __init__(self, not_ready_s: float, credentials: tuple[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _KibanaHandler)
        self.ready_at = time.monotonic() + not_ready_s
        self.credentials = credentials
        self.imports: list[bytes] = []
        self.import_attempts = 0
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _KibanaHandler(BaseHTTPRequestHandler):
    server: KibanaStandIn

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        import base64

        expected = base64.b64encode(":".join(self.server.credentials).encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def do_GET(self) -> None:  # /api/status
        if time.monotonic() < self.server.ready_at:
            return self._send(503, {"statusCode": 503, "error": "Service Unavailable",
                                    "message": "Kibana server is not ready yet"})
        if not self._authorized():
            return self._send(401, {"statusCode": 401, "error": "Unauthorized"})
        self._send(200, {"status": {"overall": {"level": "available"}}})

    def do_POST(self) -> None:  # /api/saved_objects/_import
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.import_attempts += 1
        if self.server.import_attempts == 1:
            return self._send(503, {"message": "Kibana server is not ready yet"})
        assert self._authorized() and self.headers.get("kbn-xsrf")
        self.server.imports.append(body)
        count = body.count(b'"type"')
        self._send(200, {"success": True, "successCount": count})


def _kibana_import(url: str, wait_s: float, password: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**_base_env(), "GLEANER_KIBANA_URL": url, "GLEANER_KIBANA_USERNAME": "gleaner_admin",
           "GLEANER_KIBANA_PASSWORD": password, "GLEANER_KIBANA_WAIT_S": str(wait_s)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "ops" / "compose" / "kibana_import.py")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - started


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_kibana_import_absent_kibana_fails_after_its_bound():
    done, took = _kibana_import(f"http://127.0.0.1:{_closed_port()}", 4, SECRET)
    print(f"\nkibana-import, Kibana absent, bound 4 s: exit {done.returncode} after {took:.1f} s\n{done.stdout}")
    assert done.returncode == 1 and 4 <= took < 20
    assert "waiting for Kibana at http://127.0.0.1:" in done.stdout
    assert "was not available after 4 s (GLEANER_KIBANA_WAIT_S); its last answer: ConnectError" in done.stdout


def test_kibana_import_waits_through_503_then_imports():
    from workers.store.kibana import saved_object_files

    kibana = KibanaStandIn(not_ready_s=5, credentials=("gleaner_admin", SECRET))
    try:
        done, took = _kibana_import(kibana.url, 60, SECRET)
        print(f"\nkibana-import, 503 for 5 s then 200: exit {done.returncode} after {took:.1f} s\n{done.stdout}")
        assert done.returncode == 0, done.stdout + done.stderr
        assert took >= 5 and "Kibana server is not ready yet" in done.stdout
        assert "retrying" in done.stdout and "imported " in done.stdout
        assert len(kibana.imports) == len(saved_object_files())
        objects = [json.loads(line) for body in kibana.imports for line in body.split(b"\n") if line.startswith(b"{")]
        assert any(o.get("type") == "dashboard" for o in objects)
        # Running it again leaves the same objects: same ids, overwrite=true.
        again, _ = _kibana_import(kibana.url, 60, SECRET)
        assert again.returncode == 0
        second = [json.loads(line) for body in kibana.imports[len(saved_object_files()):]
                  for line in body.split(b"\n") if line.startswith(b"{")]
        assert [o["id"] for o in second] == [o["id"] for o in objects]
    finally:
        kibana.shutdown()
        kibana.server_close()


def test_kibana_import_refused_credentials_fail_at_once():
    kibana = KibanaStandIn(not_ready_s=0, credentials=("gleaner_admin", SECRET))
    try:
        done, took = _kibana_import(kibana.url, 60, "not-the-password")
        assert done.returncode == 1 and took < 15
        assert "refused the credentials (HTTP 401" in done.stdout
    finally:
        kibana.shutdown()
        kibana.server_close()


# --- least privilege, derived from the requests of the real workers ---------------------------

def _worker_env(stage: str, proxy: RecordingProxy, redis_url: str, alias: str) -> tuple[list[str], dict[str, str]]:
    example = {**parse_env_file(ENV_EXAMPLE.read_text())}
    service = load_compose(example)["services"][stage]
    env = {**_base_env(), **service["environment"]}
    # Only what differs on this machine: where Redis and Elasticsearch are (plain HTTP through the
    # proxy, no Redis password), the alias of this test, and a small pool.
    env.pop("GLEANER_REDIS_PASSWORD")
    env.pop("GLEANER_ES_CA_CERTS")
    env.update({"GLEANER_REDIS_URL": redis_url, "GLEANER_ES_URL": f"http://127.0.0.1:{proxy.port}",
                "GLEANER_INDEX_ALIAS": alias, "GLEANER_LOG_JSON": "false", "GLEANER_INDEX_FLUSH_S": "0.2"})
    words = service["command"].split()
    words[words.index("-n") + 1] = f"compose-it-{stage}@%h"
    words[words.index("--concurrency") + 1] = "1" if stage != "index" else "4"
    return [str(BIN / words[0]), *words[1:]], env


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _needs(proxy: RecordingProxy) -> list[Requirement]:
    return [req for recorded in proxy.requests for req in requirements(recorded)]


def _describe(reqs: list[Requirement]) -> str:
    seen = sorted({(r.action, r.target or "cluster", r.least) for r in reqs})
    return "; ".join(f"{a} on {t} ({p})" for a, t, p in seen) or "none"


def test_writer_role_grants_exactly_what_the_workers_request(es, private_redis, test_alias, tmp_path):
    from workers.store.failure_index import FAILURES_INDEX

    security = load_setup_module().load_security(test_alias)
    admin_proxy = RecordingProxy(_es_url())
    proxies = {stage: RecordingProxy(_es_url()) for stage in ("parse", "enrich", "index", "producer")}
    workers: list[subprocess.Popen] = []
    try:
        done = _run_setup(_setup_env(f"http://127.0.0.1:{admin_proxy.port}", private_redis, test_alias))
        assert done.returncode == 0, done.stdout + done.stderr
        logs = tmp_path / "logs"
        logs.mkdir()
        for stage in ("parse", "enrich", "index"):
            command, env = _worker_env(stage, proxies[stage], private_redis, test_alias)
            with open(logs / f"{stage}.log", "w") as log:
                workers.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True))
        pages = tmp_path / "pages"
        pages.mkdir()
        shutil.copy(FIXTURES / "jpost-gantz-2020-09-23.txt", pages)
        for name in sorted(os.listdir(FIXTURES / "pages"))[:3]:
            shutil.copy(FIXTURES / "pages" / name, pages)
        shutil.copy(FIXTURES / "hostile" / "nav-and-footer-only.html", pages)  # fails at parse
        _, producer_env = _worker_env("parse", proxies["producer"], private_redis, test_alias)
        submit = subprocess.run([str(BIN / "gleaner"), "submit", str(pages), "--collection", test_alias, "--wait",
                                 "--timeout", "300", "--plain"], env=producer_env, cwd=ROOT, capture_output=True,
                                text=True, timeout=400)
        batch = batch_id_in(submit.stdout + submit.stderr)
        es.indices.refresh(index=test_alias)
        indexed = es.count(index=test_alias, query={"term": {"batch_id": batch}})["count"]
        assert indexed >= 4, submit.stdout + submit.stderr + "".join((logs / f"{s}.log").read_text()[-3000:]
                                                                     for s in ("parse", "enrich", "index"))

        def failure_mirrored() -> bool:
            es.indices.refresh(index=FAILURES_INDEX)
            return es.count(index=FAILURES_INDEX, query={"term": {"batch_id": batch}})["count"] >= 1

        wait_until(failure_mirrored, 30, "the parse worker's failure in the failures index", interval=0.5)
    finally:
        for process in workers:
            _stop(process)
        for proxy in [admin_proxy, *proxies.values()]:
            proxy.stop()

    writer = security["roles"]["gleaner_writer"]
    by_stage = {stage: _needs(proxies[stage]) for stage in ("parse", "enrich", "index")}
    print("\nElasticsearch requests of each stage, as recorded (action on target (least privilege)):")
    for stage, needed in by_stage.items():
        print(f"  {stage}: {_describe(needed)}")
    print(f"  producer (gleaner submit): {_describe(_needs(proxies['producer']))}")
    needed = [r for reqs in by_stage.values() for r in reqs]
    assert any(r.target == test_alias and r.action == "indices:data/write/index" for r in by_stage["index"])
    assert any(r.target == FAILURES_INDEX for r in by_stage["parse"]), "the parse failure was mirrored"
    assert not any(r.least == "read" for r in by_stage["parse"] + by_stage["enrich"]), \
        "a stage reads documents: say which, and grant it"
    assert {(r.target, r.least) for r in by_stage["index"] if r.least == "read"} <= {(test_alias, "read")}, \
        "the index stage reads the pages alias only (its near-duplicate lookup)"
    assert any(r.least == "read" for r in by_stage["index"]), "the near-duplicate lookup searched the alias"
    assert _needs(proxies["producer"]) == [], "gleaner submit needs no Elasticsearch"
    assert missing_privileges(writer, needed) == [], "gleaner_writer lacks what the workers request"
    assert unneeded_privileges(writer, needed) == [], "gleaner_writer grants more than the workers request"

    admin = security["roles"]["gleaner_admin"]
    setup_needs = _needs(admin_proxy)
    print(f"  setup (gleaner setup as gleaner_admin): {_describe(setup_needs)}")
    assert missing_privileges(admin, setup_needs) == []


def test_admin_role_covers_the_operator_commands(es, alias):
    proxy = RecordingProxy(_es_url())
    try:
        env = {**_base_env(), "GLEANER_ES_URL": f"http://127.0.0.1:{proxy.port}",
               "GLEANER_REDIS_URL": _redis_url(0), "COLUMNS": "200"}
        for args in (["status", "--json"], ["search", "Gantz", "--json"], ["failures", "list"]):
            done = subprocess.run([str(BIN / "gleaner"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr
    finally:
        proxy.stop()
    needed = _needs(proxy)
    print(f"\noperator commands (status, search, failures list): {_describe(needed)}")
    admin = load_setup_module().load_security(alias)["roles"]["gleaner_admin"]
    assert needed and missing_privileges(admin, needed) == []
