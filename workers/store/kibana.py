"""Kibana saved objects (data view, saved search, dashboard) from ``ops/kibana/``."""

from __future__ import annotations

from pathlib import Path

import httpx

from workers.config import Settings

SAVED_OBJECTS_DIR = Path(__file__).resolve().parents[2] / "ops" / "kibana"


def import_saved_objects(settings: Settings) -> str:
    files = sorted(SAVED_OBJECTS_DIR.glob("*.ndjson"))
    if not files:
        return "no Kibana saved objects to import"
    auth = None
    if settings.kibana_username and settings.kibana_password:
        auth = (settings.kibana_username, settings.kibana_password.get_secret_value())
    imported = 0
    with httpx.Client(base_url=settings.kibana_url or "", auth=auth, timeout=60, headers={"kbn-xsrf": "gleaner"}) as client:
        for path in files:
            resp = client.post("/api/saved_objects/_import", params={"overwrite": "true"},
                               files={"file": (path.name, path.read_bytes(), "application/ndjson")})
            resp.raise_for_status()
            imported += int(resp.json().get("successCount", 0))
    return f"imported {imported} Kibana saved objects"
