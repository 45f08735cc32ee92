"""gleaner failures: selection, grouping, retryability and page excerpts of failure records."""

import base64
import zlib

import pytest

from tests.unit.cli.conftest import record, render
from workers.cli.failures_view import (
    group_failures,
    page_excerpt,
    render_failure,
    render_failure_groups,
    select_failures,
)
from workers.pipeline import can_retry

pytestmark = pytest.mark.unit


def _parse_payload(raw: bytes) -> dict:
    return {"content_z": base64.b64encode(zlib.compress(raw)).decode(), "size": len(raw), "source": "/x",
            "batch_id": "b"}


def test_select_and_group_failures():
    records = [record("a1", payload=_parse_payload(b"x"), batch_id="b1", minutes_ago=5),
               record("a2", payload=_parse_payload(b"x"), batch_id="b2", minutes_ago=1),
               record("c1", stage="submit", error="refused_at_submit", reason="too big", collection="c")]
    assert [r.id for r in select_failures(records, batch="b1")] == ["a1"]
    assert [r.id for r in select_failures(records, reason="refused_at_submit", collection="c")] == ["c1"]
    assert [r.id for r in select_failures(records, stage="parse")] == ["a1", "a2"]
    groups = group_failures(records)
    assert [key for key, _ in groups] == [("parse", "binary_content"), ("submit", "refused_at_submit")]
    assert [r.id for r in groups[0][1]] == ["a2", "a1"], "newest first"
    assert can_retry(records[0]) and not can_retry(records[2])


def test_failure_groups_render_reason_ids_and_hints():
    records = [record("a1aaaaaaaaaaaaaaaaaa", payload=_parse_payload(b"x")),
               record("c1cccccccccccccccccc", stage="submit", error="refused_at_submit", reason="too big"),
               record("d1dddddddddddddddddd", stage="enrich", error="internal_error", reason="boom", payload={"x": 1}),
               record("d2dddddddddddddddddd", stage="enrich", error="internal_error", reason="bang", payload={"x": 1})]
    text = "\n".join(render(part) for part in render_failure_groups(records, limit=1))
    assert text.startswith("4 failed pages, 3 retryable")
    assert "parse · binary_content · 1 page" in text and "not a web page: looks like PNG image" in text
    assert "a1aaaaaaaa" in text and "/data/a1aaaaaaaaaaaaaaaaaa.html" in text
    assert "submit · refused_at_submit · 1 page  (not retryable: resubmit the file)" in text
    assert "enrich · internal_error · 2 pages" in text and "... and 1 more (--reason internal_error --limit 0)" in text
    assert "gleaner failures show ID" in text
    assert render_failure_groups([])[0].plain == "0 failed pages, 0 retryable"


def test_page_excerpt_of_each_stage():
    png = b"\x89PNG\r\n\x1a\n" + bytes(40)
    binary = page_excerpt(record("p", payload=_parse_payload(png)))
    assert binary.kind == "raw page" and binary.size == len(png) and binary.note == "binary: PNG image"
    assert binary.text.startswith("00000000  89 50 4e 47 0d 0a 1a 0a") and binary.data == png
    html = "<html><body><p>Caf\u00e9 short page</p></body></html>".encode("cp1252")
    text = page_excerpt(record("t", error="empty_after_cleaning", payload=_parse_payload(html)), max_chars=20)
    assert text.text == "<html><body><p>Café " and text.size == len(html) and text.data == html
    broken = page_excerpt(record("z", payload={"content_z": "!!not base64"}))
    assert broken.text == "" and "cannot be decoded" in broken.note
    enrich = page_excerpt(record("e", stage="enrich", error="internal_error",
                                 payload={"extraction": {"title": "T", "body": "Cleaned body."}}))
    assert enrich.kind == "cleaned body" and enrich.text == "T\n\nCleaned body." and enrich.size == len("Cleaned body.")
    index = page_excerpt(record("i", stage="index", error="rejected_by_index",
                                payload={"doc_id": "x", "document": {"title": None, "body": "Doc body."}}))
    assert index.kind == "document body" and index.text == "Doc body."
    assert page_excerpt(record("s", stage="submit", error="refused_at_submit")) is None


def test_one_failure_shows_its_fields_the_retry_and_its_page():
    failure = record("a1aaaaaaaaaaaaaaaaaa", payload=_parse_payload(b"<p>a page</p>"), url="https://x.org/a")
    text = "\n".join(render(part) for part in render_failure(failure, page_excerpt(failure)))
    for expected in ("failure       a1aaaaaaaaaaaaaaaaaa", "binary_content", "https://x.org/a",
                     "gleaner failures retry a1aaaaaaaa", "raw page, 13 bytes", "<p>a page</p>"):
        assert expected in text, expected
    refused = record("s", stage="submit", error="refused_at_submit")
    text = "\n".join(render(part) for part in render_failure(refused, None))
    assert "not retryable: resubmit the file" in text and "no page stored" in text
