"""Export of the queue messages' JSON Schemas to ``schemas/messages/``."""

from __future__ import annotations

import json
from pathlib import Path

from workers.models import Document, FailureRecord, IndexMessage, PageMessage, ParsedPage

MESSAGES_DIR = Path(__file__).resolve().parents[1] / "schemas" / "messages"
MODELS = {"page-message": PageMessage, "parsed-page": ParsedPage, "index-message": IndexMessage,
          "document": Document, "failure-record": FailureRecord}


def render_schemas() -> dict[str, str]:
    return {name: json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n" for name, model in MODELS.items()}


def export_message_schemas() -> list[Path]:
    MESSAGES_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in render_schemas().items():
        path = MESSAGES_DIR / f"{name}.schema.json"
        path.write_text(text)
        paths.append(path)
    return paths
