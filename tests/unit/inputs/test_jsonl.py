"""JSON Lines, both halves (``workers/inputs/jsonl.py``): the producer splits lines, the parse
stage opens each record."""

import json

import pytest

from workers.errors import PermanentPageError
from workers.inputs.jsonl import open_record, page_from_jsonl, read_jsonl
from workers.models import RawPage

pytestmark = pytest.mark.unit
CAP = 100_000


def _record(line: str | bytes, collection: str | None = "submitted") -> RawPage:
    content = line.encode() if isinstance(line, str) else line
    return RawPage(content=content + b"\n", source="/in/p.jsonl#7", collection=collection, record="jsonl")


def test_a_jsonl_record_becomes_its_page():
    line = json.dumps({"url": "https://x.org/1", "html": "<p>caf\u00e9</p>", "fetched_at": "2024-01-02T03:04:05",
                       "collection": "own"})
    page = open_record(_record(line), max_bytes=CAP)
    assert page.content == "<p>caf\u00e9</p>".encode() and page.kind == "html" and page.charset == "utf-8"
    assert page.url == "https://x.org/1" and page.collection == "own" and page.source == "/in/p.jsonl#7"
    assert page.fetched_at.isoformat() == "2024-01-02T03:04:05+00:00" and page.record is None


def test_text_records_and_the_submission_collection():
    page = open_record(_record(json.dumps({"text": "two"})), max_bytes=CAP)
    assert page.kind == "text" and page.content == b"two" and page.collection == "submitted" and page.url is None


def test_what_orjson_refuses_but_json_reads():
    page = page_from_jsonl(b'{"text": "lone \\ud800 surrogate"}', source="s#1", collection=None, max_bytes=CAP)
    assert page.content.startswith(b"lone ") and page.content.endswith(b" surrogate")


@pytest.mark.parametrize("line,words", [
    ("{broken json", "line 7 is not valid JSON"),
    ('["not", "an", "object"]', "line 7 is not a JSON object"),
    ('{"url": "https://x.org/3"}', "neither an 'html' nor a 'text' string"),
    ('{"html": {"p": "x"}}', "neither an 'html' nor a 'text' string"),
    (b'{"text": "\xff\xfe"}', "line 7 is not valid JSON"),
])
def test_lines_without_a_page_are_permanent_failures(line, words):
    with pytest.raises(PermanentPageError) as err:
        open_record(_record(line), max_bytes=CAP)
    assert err.value.code == "invalid_record" and words in err.value.reason


def test_a_record_whose_page_is_over_the_cap():
    with pytest.raises(PermanentPageError) as err:
        open_record(_record(json.dumps({"text": "\u00e9" * CAP})), max_bytes=CAP)
    assert err.value.code == "oversized" and "cap" in err.value.reason


def test_pages_that_are_not_records_pass_through():
    page = RawPage(content=b"<p>x</p>", source="a.html")
    assert open_record(page, max_bytes=CAP) is page


def test_jsonl_lines_travel_as_records(tmp_path):
    lines = [
        json.dumps({"url": "https://x.org/1", "html": "<p>one</p>"}),
        "{broken json",
        "   ",
        json.dumps({"url": "https://x.org/2", "text": "two"}),
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines))
    with open(path, "rb") as fh:
        items = list(read_jsonl(fh, str(path), CAP, "col"))
    # Every non-blank line is a record, decoded by the parse stage (broken ones fail there).
    assert [i.source.rsplit("#", 1)[1] for i in items] == ["1", "2", "4"]
    assert all(isinstance(i, RawPage) and i.record == "jsonl" and i.collection == "col" for i in items)
    assert items[0].content.rstrip() == lines[0].encode() and items[2].content == lines[3].encode()
