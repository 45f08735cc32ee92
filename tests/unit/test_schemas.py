import json

import pytest

from workers.models import Document
from workers.schemas import MESSAGES_DIR, render_schemas
from workers.store.elastic import TEMPLATE_FILE, load_template

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


def test_an_index_message_document_is_sent_as_is_with_the_version_of_its_model():
    from datetime import datetime, timezone

    from workers.store.elastic import index_item

    doc = Document(body="b", word_count=1, content_hash="h", simhash="s", source="x", ingested_at=datetime.now(timezone.utc),
                   fetched_at=datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc),
                   pipeline={"extractor": "e", "gleaner": "g"})
    wire = json.loads(doc.model_dump_json())
    from_model, from_wire = index_item("id1", doc), index_item("id1", wire)
    assert from_wire.source is wire and from_wire.version == from_model.version == 1714566600000
    assert index_item("id2", {**wire, "fetched_at": None}).version == 0
    with pytest.raises(ValueError):
        index_item("id3", {**wire, "fetched_at": "yesterday"})


def test_documents_are_searchable_before_their_near_duplicate_claims_expire():
    from workers.config import Settings

    refresh = load_template("pages")["template"]["settings"]["refresh_interval"]
    assert refresh.endswith("s") and float(refresh[:-1]) * 4 <= Settings().dedup_claim_ttl_s, \
        "the claims cover a document until the index shows it: its refresh, its bulk write and their retries"
