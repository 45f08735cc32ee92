"""The page reference every message carries, and messages of earlier versions (``workers/models.py``)."""

import pytest

from workers.models import IndexEnvelope, PageMessage, PageRef, ParsedPage, page_ref_of

pytestmark = pytest.mark.unit
REF = {"source": "a.html", "url": "https://x.org/a", "collection": "c", "batch_id": "b", "seq": 3}


def test_every_message_carries_the_same_page_reference_at_its_top():
    page = PageMessage.model_validate({**REF, "content_z": "eA==", "size": 1})
    parsed = ParsedPage.model_validate({**REF, "doc_id": "d", "kind": "html", "extraction": {"body": "x"},
                                        "extractor": "e"})
    envelope = IndexEnvelope.model_validate({**REF, "doc_id": "d", "document": {"source": "a.html"}})
    assert page.page == parsed.page == envelope.page == PageRef(**REF)
    assert all(page_ref_of(m.model_dump(mode="json")) == PageRef(**REF) for m in (page, parsed, envelope))


def test_an_index_message_of_an_earlier_version_names_its_page_in_its_document():
    old = {"doc_id": "d", "seq": 4, "document": {"source": "a.html", "url": "https://x.org/a", "batch_id": "b",
                                                 "collection": "c"}}
    assert IndexEnvelope.model_validate(old).page == PageRef(**{**REF, "seq": 4})
    assert page_ref_of(old) == PageRef(**{**REF, "seq": 4})


def test_a_malformed_message_is_still_read_for_what_it_has():
    assert page_ref_of(["not", "a", "message"]) == PageRef(source="unknown")
    assert page_ref_of({"source": 5, "url": "u", "seq": -1}) == PageRef(source="unknown", url="u")
    assert page_ref_of({"source": "s", "seq": True}).seq is None
