"""Knowing an input by its first bytes (``workers/inputs/sniff.py``)."""

import gzip

import pytest

from workers.inputs.sniff import format_by_name, format_of, is_gzip

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("head", "expected"), [
    (b"WARC/1.0\r\nWARC-Type: warcinfo", "archive"),
    (b"filedesc://t.arc 0.0.0.0 20240101000000", "archive"),
    (b'{"url": "https://x.org/", "html": "<p>x</p>"}\n{"url"', "jsonl"),
    (b'\xef\xbb\xbf\n  {"text": "a page"}\n', "jsonl"),
    (b'{"url": "https://x.org/", "html": "<p>a first record longer than the head', "jsonl"),
    (b'{"id": 1, "title": "not a page record"}\n', "json"),
    (b'{\n  "url": "https://x.org/"\n}\n', "json"),
    (b'[{"url": "https://x.org/"}]', "json"),
    (b"<!doctype html><html>", "page"),
    (b"Defense Minister Benny Gantz discussed", "page"),
    (b"{{Infobox person}} The article", "page"),
    (b"[Skip to content]\nThe article", "page"),
    (b"{not json at all}\n", "page"),
])
def test_format_of_the_first_bytes(head, expected):
    assert format_of(head) == expected


def test_names_that_say_their_format_are_taken_at_their_word():
    assert format_by_name("a.WARC.gz") == "archive" and format_by_name("x.wet") == "archive"
    assert format_by_name("p.jsonl.gz") == "jsonl" and format_by_name("p.ndjson") == "jsonl"
    assert format_by_name("half.aa") is None and format_by_name("page.html.gz") is None
    assert is_gzip(gzip.compress(b"x")) and not is_gzip(b"<html>")


def test_names_that_say_one_page():
    from workers.inputs.sniff import names_a_page

    assert names_a_page("a.HTML") and names_a_page("b.txt.gz") and names_a_page("c.htm")
    assert not names_a_page("half.aa") and not names_a_page("data") and not names_a_page("x.json")
