import json

import pytest

from workers.schemas import MESSAGES_DIR, render_schemas
from workers.store.elastic import TEMPLATE_FILE, load_template
from workers.models import Document

pytestmark = pytest.mark.unit


def test_message_schemas_are_exported_and_current():
    for name, text in render_schemas().items():
        path = MESSAGES_DIR / f"{name}.schema.json"
        assert path.exists(), f"run `make schemas` to write {path}"
        assert path.read_text() == text, f"{path} is stale: run `make schemas`"


def test_template_maps_every_document_field_explicitly():
    template = load_template("pages")
    assert template["index_patterns"] == ["pages-*"]
    mappings = template["template"]["mappings"]
    assert mappings["dynamic"] == "strict"
    assert set(mappings["properties"]) == set(Document.model_fields)
    assert mappings["properties"]["entities"]["type"] == "nested"
    assert json.loads(TEMPLATE_FILE.read_text())["_meta"]["gleaner_mapping_version"] >= 1
