"""Kibana saved objects (data views, saved search, dashboard) from ``ops/kibana/*.ndjson``.

``gleaner setup`` (when ``GLEANER_KIBANA_URL`` is set) and compose's ``kibana-import`` step import
them with ``POST /api/saved_objects/_import?overwrite=true``: the objects have fixed ids, so a second
import leaves the same objects. Kibana may still be starting (connection refused, 503 "not ready
yet"): the import waits for ``/api/status`` to answer, and retries what Kibana refuses for a while,
up to ``GLEANER_KIBANA_WAIT_S`` in all, then fails with what Kibana last said. Refused credentials
fail at once. The files name the ``pages`` alias; a different ``GLEANER_INDEX_ALIAS`` is substituted
in the pages data view on import.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from workers.config import Settings

SAVED_OBJECTS_DIR = Path(__file__).resolve().parents[2] / "ops" / "kibana"
PAGES_DATA_VIEW_ID = "gleaner-pages"
DEFAULT_ALIAS = "pages"


def saved_object_files() -> list[Path]:
    return sorted(SAVED_OBJECTS_DIR.glob("*.ndjson"))


def load_saved_objects(path: Path, alias: str = DEFAULT_ALIAS) -> list[dict[str, Any]]:
    """The objects of one ndjson file, with the pages data view bound to ``alias``."""
    objects = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for obj in objects:
        if obj.get("type") == "index-pattern" and obj.get("id") == PAGES_DATA_VIEW_ID:
            obj["attributes"]["title"] = alias
    return objects


def _ndjson(objects: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects).encode("utf-8")


RETRY_STATUSES = {429, 502, 503, 504}  # Kibana (or a proxy before it) is starting or busy
USABLE_LEVELS = {"available", "degraded"}  # a degraded plugin does not stop saved objects


class KibanaError(RuntimeError):
    """Kibana refused the import, or was not available in time."""


def _status_level(resp: httpx.Response) -> str | None:
    try:
        status = resp.json().get("status", {})
    except (ValueError, AttributeError):
        return None
    overall = status.get("overall", {}) if isinstance(status, dict) else {}
    return overall.get("level") or overall.get("state")  # `state` before Kibana 8


def _answer(resp: httpx.Response) -> str:
    text = " ".join(resp.text.split())[:200]
    return f"HTTP {resp.status_code}" + (f" {text}" if text else "")


class _Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds, self._clock = seconds, clock
        self._end = clock() + seconds

    def left(self) -> float:
        return self._end - self._clock()


def wait_for_kibana(client: httpx.Client, deadline: _Deadline, *, interval_s: float = 2.0,
                    sleep: Callable[[float], None] = time.sleep, progress: Callable[[str], None] = print) -> None:
    """Return once ``/api/status`` says Kibana is available; raise ``KibanaError`` when the deadline
    passes first (with Kibana's last answer), or at once when Kibana refuses the credentials."""
    last, said = "no answer", 0.0
    while True:
        try:
            resp = client.get("/api/status")
        except httpx.TransportError as exc:
            last = f"{exc.__class__.__name__}: {exc}"
        else:
            level = _status_level(resp)
            if resp.status_code == 200 and level in USABLE_LEVELS:
                return
            if resp.status_code in (401, 403):
                raise KibanaError(f"Kibana at {client.base_url} refused the credentials ({_answer(resp)}): "
                                  "check GLEANER_KIBANA_USERNAME and GLEANER_KIBANA_PASSWORD")
            last = _answer(resp) if resp.status_code != 200 else f"HTTP 200, status {level}"
        left = deadline.left()
        if left <= 0:
            raise KibanaError(f"Kibana at {client.base_url} was not available after {deadline.seconds:g} s "
                              f"(GLEANER_KIBANA_WAIT_S); its last answer: {last}")
        if deadline.seconds - left >= said:
            progress(f"waiting for Kibana at {client.base_url} ({last})")
            said += 10.0
        sleep(min(interval_s, max(left, 0.0)))


def _post_with_retry(client: httpx.Client, path: Path, body: bytes, deadline: _Deadline, *, interval_s: float,
                     sleep: Callable[[float], None], progress: Callable[[str], None]) -> dict[str, Any]:
    while True:
        try:
            resp = client.post("/api/saved_objects/_import", params={"overwrite": "true"},
                               files={"file": (path.name, body, "application/ndjson")})
        except httpx.TransportError as exc:
            last = f"{exc.__class__.__name__}: {exc}"
        else:
            if resp.status_code == 200:
                return resp.json()
            if resp.status_code not in RETRY_STATUSES:
                raise KibanaError(f"Kibana refused {path.name}: {_answer(resp)}")
            last = _answer(resp)
        if deadline.left() <= 0:
            raise KibanaError(f"Kibana did not take {path.name} within {deadline.seconds:g} s "
                              f"(GLEANER_KIBANA_WAIT_S); its last answer: {last}")
        progress(f"Kibana did not take {path.name} yet ({last}); retrying")
        sleep(min(interval_s, max(deadline.left(), 0.0)))


def import_saved_objects(settings: Settings, *, interval_s: float = 2.0, clock: Callable[[], float] = time.monotonic,
                         sleep: Callable[[float], None] = time.sleep,
                         progress: Callable[[str], None] = print) -> str:
    """Wait for Kibana, then import every saved-objects file (idempotent: same ids, overwritten).
    Raises ``KibanaError`` with a message for the operator."""
    files = saved_object_files()
    if not files:
        return "no Kibana saved objects to import"
    if not settings.kibana_url:
        raise KibanaError("GLEANER_KIBANA_URL is not set")
    auth = None
    if settings.kibana_username and settings.kibana_password:
        auth = (settings.kibana_username, settings.kibana_password.get_secret_value())
    deadline = _Deadline(settings.kibana_wait_s, clock)
    imported = 0
    with httpx.Client(base_url=settings.kibana_url, auth=auth, timeout=60, headers={"kbn-xsrf": "gleaner"}) as client:
        wait_for_kibana(client, deadline, interval_s=interval_s, sleep=sleep, progress=progress)
        for path in files:
            body = _ndjson(load_saved_objects(path, settings.index_alias))
            result = _post_with_retry(client, path, body, deadline, interval_s=interval_s, sleep=sleep,
                                      progress=progress)
            imported += int(result.get("successCount", 0))
            if not result.get("success", True):
                problems = "; ".join(
                    f"{e.get('type')}/{e.get('id')}: {(e.get('error') or {}).get('type', '?')}"
                    for e in result.get("errors", [])
                )
                raise KibanaError(f"Kibana refused objects of {path.name}: {problems}")
    return f"imported {imported} Kibana saved objects from {len(files)} file(s) into {settings.kibana_url}"
