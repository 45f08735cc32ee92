#!/usr/bin/env python3
"""The compose stack's one-shot ``setup`` step. Safe to run again: a second run changes nothing.

1. Refuses secrets that are missing, still ``change-me...`` or too short, naming each one.
2. Waits (bounded, ``SETUP_ES_WAIT_S``) for Elasticsearch, then checks that ``ELASTIC_PASSWORD`` is
   the password Elasticsearch has. The ``es-data`` volume keeps the password of the first start:
   a different one in ``.env`` fails at once, saying what to do, instead of waiting forever.
3. As ``elastic``, only for what needs the superuser: ``kibana_system``'s password, and the roles and
   users of ``ops/compose/security.json``. Each is read first and written only when it differs.
4. As ``gleaner_admin``: ``gleaner setup`` (index template, write alias, and the failures index
   filled from Redis's failure store).

Kibana's saved objects are imported by the separate ``kibana-import`` step: Kibana cannot start
before step 3 has set its password, so this step must not wait for Kibana.

Every value travels as JSON built by ``json`` or as an HTTP basic-auth header: any printable
password works. ``SETUP_SECURITY=false`` skips steps 2-3, for a node without security (the local
development node of ``ops/es.sh``); compose never sets it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
SECURITY_FILE = HERE / "security.json"
PLACEHOLDER_PREFIX = "change-me"
MIN_PASSWORD_CHARS = 12
MIN_KEY_CHARS = 32  # Kibana refuses shorter encryption keys


class SetupError(RuntimeError):
    """A problem the operator has to fix; its message says how."""


# name -> (minimum length, required by this step). Optional ones are checked when compose passes them.
SECRETS: dict[str, tuple[int, bool]] = {
    "ELASTIC_PASSWORD": (MIN_PASSWORD_CHARS, True),
    "KIBANA_PASSWORD": (MIN_PASSWORD_CHARS, True),
    "GLEANER_ES_WRITER_PASSWORD": (MIN_PASSWORD_CHARS, True),
    "GLEANER_ES_ADMIN_PASSWORD": (MIN_PASSWORD_CHARS, True),
    "GLEANER_REDIS_PASSWORD": (MIN_PASSWORD_CHARS, False),
    "FLOWER_PASSWORD": (MIN_PASSWORD_CHARS, False),
    "KIBANA_SECURITY_KEY": (MIN_KEY_CHARS, False),
    "KIBANA_SAVED_OBJECTS_KEY": (MIN_KEY_CHARS, False),
    "KIBANA_REPORTING_KEY": (MIN_KEY_CHARS, False),
}
# .env names of the values compose passes under another name.
ENV_FILE_NAME = {"GLEANER_REDIS_PASSWORD": "REDIS_PASSWORD"}


def check_secrets(env: Mapping[str, str], *, security: bool = True) -> list[str]:
    """Every problem with the secrets in ``env``, one line each (empty: all good)."""
    problems = []
    for name, (min_chars, required) in SECRETS.items():
        shown = ENV_FILE_NAME.get(name, name)
        value = env.get(name)
        if value is None or value == "":
            if required and (security or name.startswith("GLEANER_")):
                problems.append(f"{shown} is not set: set it in .env")
            continue
        if value.lower().startswith(PLACEHOLDER_PREFIX):
            problems.append(f"{shown} is still the example value '{value}': change it in .env")
        elif len(value) < min_chars:
            problems.append(f"{shown} has {len(value)} characters, fewer than {min_chars}")
        elif not value.isprintable():
            problems.append(f"{shown} holds a control character (newline, tab...): use printable characters only")
    return problems


def load_security(alias: str, path: Path = SECURITY_FILE) -> dict[str, Any]:
    """Roles and users of ``security.json`` with ``{alias}`` bound."""
    data = json.loads(path.read_text())
    data.pop("_comment", None)
    for role in data["roles"].values():
        for entry in role.get("indices", []):
            entry["names"] = [n.replace("{alias}", alias) for n in entry["names"]]
    return data


def normalized_role(role: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a role this step sets, in a form that compares equal when ES means the same."""
    return {
        "cluster": sorted(role.get("cluster", [])),
        "indices": sorted(
            (tuple(sorted(e.get("names", []))), tuple(sorted(e.get("privileges", []))))
            for e in role.get("indices", [])
        ),
        "run_as": sorted(role.get("run_as", [])),
        "applications": sorted(json.dumps(a, sort_keys=True) for a in role.get("applications", [])),
    }


class Elasticsearch:
    """The few Elasticsearch calls of this step, over httpx (TLS checked against ``ca_certs``)."""

    def __init__(self, url: str, ca_certs: str | None, timeout: float = 30.0, retry_s: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, verify=ca_certs or True, timeout=timeout)
        self.retry_s, self._sleep = retry_s, sleep

    def request(self, method: str, path: str, auth: tuple[str, str] | None, body: Any = None,
                retry: bool = True) -> httpx.Response:
        """One request; a 5xx (the security index still being created just after the first
        start, for one) is tried again for up to ``retry_s``."""
        deadline = time.monotonic() + self.retry_s
        while True:
            resp = self._client.request(method, path, auth=auth, json=body)
            if resp.status_code < 500 or not retry or time.monotonic() >= deadline:
                return resp
            self._sleep(2.0)

    def close(self) -> None:
        self._client.close()


def _answer(resp: httpx.Response) -> str:
    return f"HTTP {resp.status_code} {' '.join(resp.text.split())[:300]}"


def wait_for_elasticsearch(es: Elasticsearch, wait_s: float, *, sleep: Callable[[float], None] = time.sleep,
                           say: Callable[[str], None] = print) -> None:
    """Return once Elasticsearch answers HTTP at all (401 counts: security is on); bounded."""
    deadline = time.monotonic() + wait_s
    last, next_note = "no answer", 0.0
    while True:
        try:
            resp = es.request("GET", "/", None, retry=False)
            if resp.status_code < 500:
                return
            last = _answer(resp)
        except httpx.TransportError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):  # no point waiting: the certificate will not change
                raise SetupError(f"Elasticsearch at {es.url} has a certificate this step does not trust ({exc}); "
                                 "GLEANER_ES_CA_CERTS names the CA that signed it") from None
            last = f"{exc.__class__.__name__}: {exc}"
        left = deadline - time.monotonic()
        if left <= 0:
            raise SetupError(f"Elasticsearch at {es.url} did not answer within {wait_s:g} s (SETUP_ES_WAIT_S); "
                             f"last: {last}. See `docker compose logs elasticsearch`.")
        if wait_s - left >= next_note:
            say(f"waiting for Elasticsearch at {es.url} ({last})")
            next_note += 10.0
        sleep(min(2.0, left))


def authenticates(es: Elasticsearch, user: str, password: str) -> bool:
    resp = es.request("GET", "/_security/_authenticate", (user, password))
    if resp.status_code == 200:
        return True
    if resp.status_code == 401:
        return False
    raise SetupError(f"GET /_security/_authenticate as {user}: {_answer(resp)}")


def check_elastic_password(es: Elasticsearch, password: str) -> None:
    resp = es.request("GET", "/_security/_authenticate", ("elastic", password))
    if resp.status_code == 200:
        return
    if resp.status_code == 401:
        raise SetupError(
            "Elasticsearch refuses ELASTIC_PASSWORD from .env. The es-data volume keeps the elastic password of "
            "the first start (or of the last reset); ELASTIC_PASSWORD does not change it afterwards. Either put "
            "that password back in .env, or set the one in .env with\n"
            "  docker compose exec elasticsearch bin/elasticsearch-reset-password -u elastic -i\n"
            "then run `docker compose up -d` again.")
    if resp.status_code in (400, 404, 405):
        raise SetupError(f"Elasticsearch at {es.url} has no security API ({_answer(resp)}); "
                         "SETUP_SECURITY=false is for a development node only")
    raise SetupError(f"GET /_security/_authenticate as elastic: {_answer(resp)}")


def _ok(resp: httpx.Response, what: str) -> httpx.Response:
    if resp.status_code >= 300:
        raise SetupError(f"{what}: {_answer(resp)}")
    return resp


def ensure_kibana_system(es: Elasticsearch, elastic: tuple[str, str], password: str) -> str:
    if authenticates(es, "kibana_system", password):
        return "kibana_system password: unchanged"
    _ok(es.request("POST", "/_security/user/kibana_system/_password", elastic, {"password": password}),
        "setting kibana_system's password")
    return "kibana_system password: set"


def ensure_role(es: Elasticsearch, elastic: tuple[str, str], name: str, role: dict[str, Any]) -> str:
    resp = es.request("GET", f"/_security/role/{name}", elastic)
    if resp.status_code == 200 and normalized_role(resp.json().get(name, {})) == normalized_role(role):
        return f"role {name}: unchanged"
    if resp.status_code not in (200, 404):
        raise SetupError(f"reading role {name}: {_answer(resp)}")
    _ok(es.request("PUT", f"/_security/role/{name}", elastic, role), f"writing role {name}")
    return f"role {name}: {'updated' if resp.status_code == 200 else 'created'}"


def ensure_user(es: Elasticsearch, elastic: tuple[str, str], name: str, roles: list[str], password: str) -> str:
    resp = es.request("GET", f"/_security/user/{name}", elastic)
    if resp.status_code not in (200, 404):
        raise SetupError(f"reading user {name}: {_answer(resp)}")
    current = resp.json().get(name, {}) if resp.status_code == 200 else None
    if current and sorted(current.get("roles", [])) == sorted(roles) and current.get("enabled", True) \
            and authenticates(es, name, password):
        return f"user {name}: unchanged"
    _ok(es.request("PUT", f"/_security/user/{name}", elastic, {"password": password, "roles": roles, "enabled": True}),
        f"writing user {name}")
    return f"user {name}: {'updated' if current else 'created'}"


def gleaner_command() -> list[str]:
    found = shutil.which("gleaner") or str(Path(sys.executable).with_name("gleaner"))
    return [found, "setup"]


def run_gleaner_setup(env: Mapping[str, str], credentials: tuple[str, str] | None) -> None:
    child = {k: v for k, v in env.items() if k != "GLEANER_KIBANA_URL"}  # kibana-import does that
    if credentials:
        child["GLEANER_ES_USERNAME"], child["GLEANER_ES_PASSWORD"] = credentials
        child.pop("GLEANER_ES_API_KEY", None)
    done = subprocess.run(gleaner_command(), env=child, check=False)
    if done.returncode != 0:
        raise SetupError(f"`gleaner setup` failed (exit {done.returncode}): see its output above")


def _say(line: str) -> None:
    print(line, flush=True)


def main(env: Mapping[str, str] | None = None, say: Callable[[str], None] = _say,
         run_setup: Callable[[Mapping[str, str], tuple[str, str] | None], None] = run_gleaner_setup) -> int:
    env = dict(os.environ if env is None else env)
    security = env.get("SETUP_SECURITY", "true").lower() not in ("false", "0", "no", "off")
    problems = check_secrets(env, security=security)
    if problems:
        say("setup refused: fix these values in .env, then run `docker compose up -d` again:")
        for line in problems:
            say(f"  - {line}")
        return 2
    es = Elasticsearch(env.get("GLEANER_ES_URL", "https://elasticsearch:9200"), env.get("GLEANER_ES_CA_CERTS"))
    try:
        wait_for_elasticsearch(es, float(env.get("SETUP_ES_WAIT_S", "300")), say=say)
        admin: tuple[str, str] | None = None
        if security:
            elastic = ("elastic", env["ELASTIC_PASSWORD"])
            check_elastic_password(es, elastic[1])
            say(ensure_kibana_system(es, elastic, env["KIBANA_PASSWORD"]))
            security_objects = load_security(env.get("GLEANER_INDEX_ALIAS", "pages"))
            for name, role in security_objects["roles"].items():
                say(ensure_role(es, elastic, name, role))
            for name, user in security_objects["users"].items():
                say(ensure_user(es, elastic, name, user["roles"], env[user["password_env"]]))
            admin = ("gleaner_admin", env["GLEANER_ES_ADMIN_PASSWORD"])
        else:
            say("SETUP_SECURITY=false: no users or roles (a development node without security)")
        run_setup(env, admin)
    except SetupError as exc:
        say(f"setup failed: {exc}")
        return 1
    finally:
        es.close()
    say("setup done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
