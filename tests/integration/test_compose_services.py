"""Pieces of the compose stack run here with real programs, as compose would run them:

* ``ops/compose/certs.sh`` (with a stand-in for ``elasticsearch-certutil``, which only the
  Elasticsearch image has: tests/fixtures/compose/elasticsearch-certutil, openssl) makes the CA and
  the node certificate once; the local Elasticsearch node is then served over HTTPS with them
  (a TLS proxy in front of it, the node has no TLS of its own), and Gleaner's client and setup
  verify it with ``GLEANER_ES_CA_CERTS``, and refuse it without.
* Redis started by the compose file's own command (through a stand-in for the image's entrypoint
  that only adds a free port and a temporary folder) with a hostile password: the workers' URL,
  the healthcheck and ``ps`` checked.
* Flower started with ``ops/compose/flowerconfig.py`` and a hostile password.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compose_files import ENV_EXAMPLE, load_compose, parse_env_file
from tests.es_requests import RecordingProxy
from tests.helpers import wait_until
from tests.unit.test_compose import HOSTILE

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _es_url() -> str:
    from workers.config import get_settings

    return get_settings().es_url


# --- TLS ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    if os.geteuid() != 0:
        pytest.skip("certs.sh runs as root in the Elasticsearch image (chown root:root)")
    home = tmp_path_factory.mktemp("es-home")
    (home / "bin").mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "compose" / "elasticsearch-certutil", home / "bin")
    env = {**os.environ, "ES_HOME": str(home)}
    first = subprocess.run(["bash", str(ROOT / "ops" / "compose" / "certs.sh")], env=env, capture_output=True,
                           text=True, check=True)
    assert "creating the CA" in first.stdout and "creating the certificate of elasticsearch" in first.stdout
    certs = home / "config" / "certs"
    made = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in certs.rglob("*") if p.is_file()}
    second = subprocess.run(["bash", str(ROOT / "ops" / "compose" / "certs.sh")], env=env, capture_output=True,
                            text=True, check=True)
    assert "creating" not in second.stdout, "a second run made new certificates"
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in certs.rglob("*") if p.is_file()} == made
    return certs


def test_certs_permissions(certs):
    def mode(p: str) -> int:
        return stat.S_IMODE((certs / p).stat().st_mode)

    assert mode("ca/ca.crt") == 0o644, "everyone verifies with the CA certificate (the Gleaner image is uid 10001)"
    assert mode("ca/ca.key") == 0o600
    assert mode("elasticsearch/elasticsearch.key") == 0o640 and mode("elasticsearch") == 0o750


@pytest.fixture(scope="module")
def https_es(certs) -> Iterator[int]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "elasticsearch" / "elasticsearch.crt", certs / "elasticsearch" / "elasticsearch.key")
    proxy = RecordingProxy(_es_url(), tls=context)
    yield proxy.port
    proxy.stop()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_client_verifies_elasticsearch_with_the_ca(certs, https_es, host):
    from workers.config import Settings
    from workers.store.elastic import make_client

    settings = Settings(es_url=f"https://{host}:{https_es}", es_ca_certs=str(certs / "ca" / "ca.crt"))
    assert make_client(settings).cluster.health()["status"] in ("green", "yellow")


def test_client_refuses_elasticsearch_without_the_ca(https_es):
    from elastic_transport import TlsError

    from workers.config import Settings
    from workers.store.elastic import make_client

    client = make_client(Settings(es_url=f"https://localhost:{https_es}")).options(max_retries=0)
    with pytest.raises(TlsError) as refused:
        client.cluster.health()
    assert "CERTIFICATE_VERIFY_FAILED" in repr(refused.value)


def test_setup_over_https_with_the_ca(certs, https_es, tmp_path):
    alias = f"compose-tls-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLEANER_")}
    env.update({"SETUP_SECURITY": "false", "GLEANER_ES_URL": f"https://localhost:{https_es}",
                "GLEANER_INDEX_ALIAS": alias,
                "GLEANER_REDIS_URL": "redis://127.0.0.1:1/0", "GLEANER_ES_WRITER_PASSWORD": HOSTILE[0],
                "GLEANER_ES_ADMIN_PASSWORD": HOSTILE[1], "SETUP_ES_WAIT_S": "5",
                "PATH": f"{BIN}:{os.environ.get('PATH', '')}"})
    # Without the CA, setup refuses at once (no waiting for a certificate to change).
    started = time.monotonic()
    refused = subprocess.run([sys.executable, str(ROOT / "ops" / "compose" / "setup.py")], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert refused.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in refused.stdout, refused.stdout
    assert "GLEANER_ES_CA_CERTS" in refused.stdout and time.monotonic() - started < 5
    env["GLEANER_ES_CA_CERTS"] = str(certs / "ca" / "ca.crt")
    done = subprocess.run([sys.executable, str(ROOT / "ops" / "compose" / "setup.py")], env=env, cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    try:
        assert done.returncode == 0, done.stdout
        assert f"alias '{alias}' created" in done.stdout
    finally:
        from workers.runtime import es_client

        es = es_client()
        names = list(es.indices.get(index=f"{alias}-*", allow_no_indices=True).body)
        if names:
            es.indices.delete(index=",".join(names))
        es.options(ignore_status=404).indices.delete_index_template(name=f"gleaner-{alias}")


# --- Redis ------------------------------------------------------------------------------------

@pytest.mark.parametrize("password", HOSTILE[:3])
def test_redis_from_the_compose_command_takes_any_password(tmp_path, password):
    import redis
    from kombu import Connection

    from workers.config import Settings

    port = _free_port()
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "docker-entrypoint.sh").write_text(
        f'#!/bin/sh\nexec "$@" --port {port} --bind 127.0.0.1 --dir {tmp_path} --save ""\n')
    (stub / "redis-cli").write_text(f'#!/bin/sh\nexec {shutil.which("redis-cli")} -p {port} "$@"\n')
    for script in stub.iterdir():
        script.chmod(0o755)
    example = parse_env_file(ENV_EXAMPLE.read_text())
    service = load_compose({**example, "REDIS_PASSWORD": password})["services"]["redis"]
    env = {**service["environment"], "PATH": f"{stub}:/usr/bin:/bin"}
    server = subprocess.Popen(service["command"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        settings = Settings(redis_url=f"redis://127.0.0.1:{port}/0", redis_password=password)
        client = redis.Redis.from_url(settings.redis_url)
        wait_until(lambda: _pings(client), 10, "redis started by the compose command")
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port, password=password + "x").ping()
        with Connection(settings.redis_url, connect_timeout=5) as conn:  # Celery's broker connection
            conn.ensure_connection(max_retries=1)
        health = service["healthcheck"]["test"]
        assert health[0] == "CMD-SHELL"
        assert subprocess.run(["/bin/sh", "-c", health[1]], env=env).returncode == 0
        wrong = {**env, "REDISCLI_AUTH": "wrong"}
        assert subprocess.run(["/bin/sh", "-c", health[1]], env=wrong, capture_output=True).returncode != 0
        redis_pid = int(client.info("server")["process_id"])
        assert password.encode() not in _cmdline(redis_pid), "the password shows in ps"
    finally:
        _stop(server)


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - not up yet
        return False


# --- Flower -----------------------------------------------------------------------------------

def test_flower_basic_auth_from_the_environment(tmp_path):
    from workers.config import get_settings

    password = HOSTILE[0]
    port = _free_port()
    example = parse_env_file(ENV_EXAMPLE.read_text())
    service = load_compose({**example, "FLOWER_PASSWORD": password})["services"]["flower"]
    command = [str(BIN / service["command"][0]), *service["command"][1:], f"--port={port}", "--address=127.0.0.1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLEANER_", "FLOWER_"))}
    env.update({"FLOWER_USER": service["environment"]["FLOWER_USER"],
                "FLOWER_PASSWORD": service["environment"]["FLOWER_PASSWORD"],
                "GLEANER_REDIS_URL": get_settings().redis_url.rsplit("/", 1)[0] + "/11"})
    log = tmp_path / "flower.log"
    with open(log, "w") as out:
        flower = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        def status(user: str, secret: str) -> int:
            token = base64.b64encode(f"{user}:{secret}".encode()).decode()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/workers",
                                             headers={"Authorization": f"Basic {token}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as resp:
                    return resp.status
            except urllib.error.HTTPError as exc:
                return exc.code
            except OSError:
                return 0

        wait_until(lambda: status("admin", "x") or None, 60, f"flower on port {port}: {log}", interval=0.5)
        assert status("admin", password) == 200
        assert status("admin", "change-me-flower") == 401
        assert password.encode() not in _cmdline(flower.pid)
    finally:
        _stop(flower)
