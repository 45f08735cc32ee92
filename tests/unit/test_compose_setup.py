"""ops/compose/setup.py's security steps against a stand-in for Elasticsearch's security API (the
local node has none: ops/elasticsearch/README.md). The stand-in keeps users, passwords and roles
in memory and checks basic auth as Elasticsearch does; it shows what setup sends, not what
Elasticsearch makes of it. The steps after it run for real in tests/integration/test_compose_setup.py."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.compose_files import load_setup_module
from tests.unit.test_compose import HOSTILE

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
compose_setup = load_setup_module()


class SecurityStandIn(ThreadingHTTPServer):
    def __init__(self, elastic_password: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.passwords = {"elastic": elastic_password, "kibana_system": "bootstrap-unknown"}
        self.users: dict[str, dict] = {}
        self.roles: dict[str, dict] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.unavailable_writes = 0  # answer this many writes with 503 (security index not ready)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def writes(self) -> list[tuple[str, str, str | None]]:
        return [r for r in self.requests if r[0] in ("POST", "PUT", "DELETE")]


class _Handler(BaseHTTPRequestHandler):
    server: SecurityStandIn

    def log_message(self, *args) -> None:  # quiet
        pass

    def _user(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        return user if self.server.passwords.get(user) == password else "!"

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        user = self._user()
        self.server.requests.append((self.command, self.path, user))
        if user in (None, "!"):
            reason = "missing authentication credentials" if user is None else "unable to authenticate user"
            return self._send(401, {"error": {"type": "security_exception", "reason": reason}, "status": 401})
        parts = self.path.strip("/").split("/")
        if self.path == "/_security/_authenticate":
            return self._send(200, {"username": user})
        if user != "elastic":
            return self._send(403, {"error": "forbidden"})
        if self.command != "GET" and self.server.unavailable_writes > 0:
            self.server.unavailable_writes -= 1
            return self._send(503, {"error": {"type": "unavailable_shards_exception"}, "status": 503})
        if self.command == "POST" and parts[-1] == "_password":
            self.server.passwords[parts[2]] = body["password"]
            return self._send(200, {})
        kind, name = parts[1], parts[2]
        store = self.server.roles if kind == "role" else self.server.users
        if self.command == "GET":
            return self._send(200, {name: store[name]}) if name in store else self._send(404, {})
        created = name not in store
        if kind == "user":
            self.server.passwords[name] = body.pop("password")
        store[name] = body
        return self._send(200, {"created": created} if kind == "user" else {"role": {"created": created}})

    do_GET = do_POST = do_PUT = _handle


@pytest.fixture
def stand_in() -> Iterator[SecurityStandIn]:
    server = SecurityStandIn(HOSTILE[0])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _env(url: str) -> dict[str, str]:
    return {
        "GLEANER_ES_URL": url, "ELASTIC_PASSWORD": HOSTILE[0], "KIBANA_PASSWORD": HOSTILE[1],
        "GLEANER_ES_WRITER_PASSWORD": HOSTILE[2], "GLEANER_ES_ADMIN_PASSWORD": HOSTILE[3],
        "GLEANER_REDIS_PASSWORD": HOSTILE[4], "SETUP_ES_WAIT_S": "3",
    }


def _run(env: dict[str, str]) -> tuple[int, list[str], list]:
    lines: list[str] = []
    calls: list = []
    code = compose_setup.main(env, say=lines.append, run_setup=lambda e, creds: calls.append(creds))
    return code, lines, calls


def test_first_run_sets_everything_with_exact_passwords_and_second_changes_nothing(stand_in):
    code, lines, calls = _run(_env(stand_in.url))
    assert code == 0, lines
    assert stand_in.passwords["kibana_system"] == HOSTILE[1]
    assert stand_in.passwords["gleaner_writer"] == HOSTILE[2]
    assert stand_in.passwords["gleaner_admin"] == HOSTILE[3]
    expected = compose_setup.load_security("pages")
    assert stand_in.roles == expected["roles"]
    assert stand_in.users["gleaner_writer"]["roles"] == ["gleaner_writer"]
    assert calls == [("gleaner_admin", HOSTILE[3])], "gleaner setup runs as gleaner_admin, not elastic"
    # Only the security objects need the superuser.
    assert {path.split("/")[2] for method, path, user in stand_in.writes()} == {"user", "role"}
    assert all(user == "elastic" for _method, _path, user in stand_in.writes())

    stand_in.requests.clear()
    code, lines, calls = _run(_env(stand_in.url))
    assert code == 0 and stand_in.writes() == [], "a second run changes nothing"
    assert all(line.endswith("unchanged") for line in lines if ":" in line and "setup" not in line), lines


def test_changed_passwords_in_env_are_applied(stand_in):
    assert _run(_env(stand_in.url))[0] == 0
    env = {**_env(stand_in.url), "GLEANER_ES_WRITER_PASSWORD": HOSTILE[4] + "-rotated"}
    code, lines, _ = _run(env)
    assert code == 0 and "user gleaner_writer: updated" in lines
    assert stand_in.passwords["gleaner_writer"] == HOSTILE[4] + "-rotated"


def test_stored_elastic_password_differs_fails_at_once_with_what_to_do(stand_in):
    stand_in.passwords["elastic"] = "the-one-from-the-first-start"
    started = time.monotonic()
    code, lines, calls = _run(_env(stand_in.url))
    assert code == 1 and time.monotonic() - started < 5
    message = "\n".join(lines)
    assert "refuses ELASTIC_PASSWORD" in message and "elasticsearch-reset-password -u elastic" in message
    assert stand_in.writes() == [] and calls == []


def test_example_values_refused_before_any_request(stand_in):
    env = {**_env(stand_in.url), "KIBANA_PASSWORD": "change-me-kibana", "GLEANER_ES_ADMIN_PASSWORD": "short"}
    code, lines, _ = _run(env)
    assert code == 2 and stand_in.requests == []
    assert "KIBANA_PASSWORD is still the example value 'change-me-kibana': change it in .env" in "\n".join(lines)
    assert "GLEANER_ES_ADMIN_PASSWORD has 5 characters" in "\n".join(lines)


def test_elasticsearch_not_answering_fails_after_the_bound():
    started = time.monotonic()
    code, lines, _ = _run({**_env("http://127.0.0.1:9"), "SETUP_ES_WAIT_S": "2"})
    assert code == 1 and 2 <= time.monotonic() - started < 8
    assert "did not answer within 2 s (SETUP_ES_WAIT_S)" in "\n".join(lines)


def test_a_write_refused_with_503_just_after_the_first_start_is_tried_again(stand_in):
    stand_in.unavailable_writes = 1
    code, lines, _ = _run(_env(stand_in.url))
    assert code == 0, lines
    assert stand_in.passwords["kibana_system"] == HOSTILE[1]
    assert [r[0] for r in stand_in.requests].count("POST") == 2
