"""Kibana saved objects (data views, saved search, dashboard) from ``ops/kibana/*.ndjson``.

``gleaner setup`` imports them with ``POST /api/saved_objects/_import?overwrite=true`` when
``GLEANER_KIBANA_URL`` is set. The files name the ``pages`` alias; a different
``GLEANER_INDEX_ALIAS`` is substituted in the pages data view on import.
"""

from __future__ import annotations

import json
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


def import_saved_objects(settings: Settings) -> str:
    files = saved_object_files()
    if not files:
        return "no Kibana saved objects to import"
    auth = None
    if settings.kibana_username and settings.kibana_password:
        auth = (settings.kibana_username, settings.kibana_password.get_secret_value())
    imported = 0
    with httpx.Client(base_url=settings.kibana_url or "", auth=auth, timeout=60, headers={"kbn-xsrf": "gleaner"}) as client:
        for path in files:
            body = _ndjson(load_saved_objects(path, settings.index_alias))
            resp = client.post("/api/saved_objects/_import", params={"overwrite": "true"},
                               files={"file": (path.name, body, "application/ndjson")})
            resp.raise_for_status()
            result = resp.json()
            imported += int(result.get("successCount", 0))
            if not result.get("success", True):
                problems = "; ".join(
                    f"{e.get('type')}/{e.get('id')}: {(e.get('error') or {}).get('type', '?')}"
                    for e in result.get("errors", [])
                )
                raise RuntimeError(f"Kibana refused objects of {path.name}: {problems}")
    return f"imported {imported} Kibana saved objects from {len(files)} file(s)"
