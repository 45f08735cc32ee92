"""Export of the queue messages' JSON Schemas to ``schemas/messages/``.

A task's argument is a bundle: a JSON array of 1 to ``GLEANER_BUNDLE_PAGES`` page messages of
its stage (``*-bundle.schema.json``); each element is one page (``page-message``, ``parsed-page``,
``index-message``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from annotated_types import Len
from pydantic import TypeAdapter

from workers.models import Document, FailureRecord, IndexMessage, PageMessage, ParsedPage


def _bundle_of(model: Any) -> TypeAdapter[Any]:
    """A task's argument: a JSON array of 1 to ``GLEANER_BUNDLE_PAGES`` messages of ``model``."""
    bundle: Any = Annotated[list[model], Len(min_length=1)]
    return TypeAdapter(bundle)


MESSAGES_DIR = Path(__file__).resolve().parents[1] / "schemas" / "messages"
MODELS: dict[str, Any] = {
    "page-message": PageMessage, "parsed-page": ParsedPage, "index-message": IndexMessage,
    "document": Document, "failure-record": FailureRecord,
    "parse-bundle": _bundle_of(PageMessage),
    "enrich-bundle": _bundle_of(ParsedPage),
    "index-bundle": _bundle_of(IndexMessage),
}


def _schema(model: Any) -> dict[str, Any]:
    return model.json_schema() if isinstance(model, TypeAdapter) else model.model_json_schema()


def render_schemas() -> dict[str, str]:
    return {name: json.dumps(_schema(model), indent=2, sort_keys=True) + "\n" for name, model in MODELS.items()}


def export_message_schemas() -> list[Path]:
    MESSAGES_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in render_schemas().items():
        path = MESSAGES_DIR / f"{name}.schema.json"
        path.write_text(text)
        paths.append(path)
    return paths
