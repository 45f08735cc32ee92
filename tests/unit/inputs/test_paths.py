"""Files, folders, globs and standard input (``workers/inputs/paths.py``), each known by its name
or by its first bytes (``workers/inputs/sniff.py``)."""

import gzip
import io
import json
import sys

import pytest

from tests.unit.inputs.test_warc import _warc
from workers.inputs import Skipped, iter_inputs
from workers.models import RawPage

pytestmark = pytest.mark.unit
CAP = 100_000


def _pages(items):
    return [i for i in items if isinstance(i, RawPage)]


def test_files_folders_globs_and_gzip(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.html").write_text("<p>a</p>")
    (tmp_path / "sub" / "b.txt").write_text("b text")
    with gzip.open(tmp_path / "sub" / "c.html.gz", "wb") as fh:
        fh.write(b"<p>c</p>")
    (tmp_path / ".hidden").write_text("x")
    from_dir = _pages(iter_inputs([str(tmp_path)], max_bytes=CAP))
    assert sorted(p.content for p in from_dir) == [b"<p>a</p>", b"<p>c</p>", b"b text"]
    from_glob = _pages(iter_inputs([str(tmp_path / "**" / "*.html*")], max_bytes=CAP))
    assert sorted(p.content for p in from_glob) == [b"<p>a</p>", b"<p>c</p>"]


def test_missing_path_and_empty_glob_are_reported(tmp_path):
    items = list(iter_inputs([str(tmp_path / "nope.html"), str(tmp_path / "*.none")], max_bytes=CAP))
    assert all(isinstance(i, Skipped) and not i.is_page for i in items) and len(items) == 2


def test_size_cap_and_gzip_bomb(tmp_path):
    (tmp_path / "big.html").write_bytes(b"x" * (CAP + 1))
    with gzip.open(tmp_path / "bomb.html.gz", "wb") as fh:
        fh.write(b"\0" * (CAP * 50))
    (tmp_path / "bad.html.gz").write_bytes(b"\x1f\x8bnot really gzip")
    items = list(iter_inputs([str(tmp_path)], max_bytes=CAP))
    reasons = {i.source.rsplit("/", 1)[-1]: i.reason for i in items if isinstance(i, Skipped)}
    assert "cap" in reasons["big.html"] and "cap" in reasons["bomb.html.gz"]
    assert "gzip" in reasons["bad.html.gz"]


def test_jsonl_line_over_twice_the_cap_is_skipped_without_reading_it_whole(tmp_path):
    path = tmp_path / "big.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(json.dumps({"url": "https://x.org/ok", "text": "a" * (CAP - 10)}).encode() + b"\n")
        fh.write(b'{"text": "' + b"a" * (CAP * 3) + b'"}\n')
        fh.write(json.dumps({"url": "https://x.org/after"}).encode() + b"\n")
    items = list(iter_inputs([str(path)], max_bytes=CAP))
    assert [type(i).__name__ for i in items] == ["RawPage", "Skipped", "RawPage"]
    assert "cap" in items[1].reason and items[1].source.endswith("#2") and items[2].source.endswith("#3")


def _page_line(i: int) -> bytes:
    return json.dumps({"url": f"https://x.org/{i}", "html": f"<p>page {i}</p>"}).encode() + b"\n"


def test_json_lines_without_their_extension_are_known_by_their_first_bytes(tmp_path):
    """``split`` output (``half.aa``) and a download saved as ``data``, plain or gzip'd."""
    lines = b"".join(_page_line(i) for i in range(200))
    (tmp_path / "half.aa").write_bytes(lines)
    (tmp_path / "data").write_bytes(gzip.compress(lines))
    for name in ("half.aa", "data"):
        items = list(iter_inputs([str(tmp_path / name)], max_bytes=CAP))
        assert len(items) == 200 and all(isinstance(i, RawPage) and i.record == "jsonl" for i in items), name
        assert items[0].source == f"{tmp_path / name}#1" and items[199].content == _page_line(199)


def test_a_warc_without_its_extension_is_known_by_its_first_bytes(tmp_path):
    data = _warc([("https://x.org/a", "text/html", b"<p>a</p>", "200 OK")], gz=True)
    (tmp_path / "download").write_bytes(data)
    (tmp_path / "cut").write_bytes(data[:-4])  # a gzip'd archive cut short is still noticed
    (page,) = iter_inputs([str(tmp_path / "download")], max_bytes=CAP)
    assert isinstance(page, RawPage) and page.url == "https://x.org/a" and page.source.endswith("download#0")
    items = list(iter_inputs([str(tmp_path / "cut")], max_bytes=CAP))
    assert [type(i).__name__ for i in items] == ["RawPage", "Skipped"] and "truncated" in items[1].reason


def test_an_oversized_file_that_says_nothing_names_the_extensions_that_would_work(tmp_path):
    (tmp_path / "many.aa").write_bytes(b"<html>" + b"<p>x</p>" * CAP)
    (item,) = iter_inputs([str(tmp_path / "many.aa")], max_bytes=CAP)
    assert isinstance(item, Skipped) and "cap" in item.reason
    assert ".jsonl" in item.reason and ".warc" in item.reason
    (tmp_path / "one.html").write_bytes(b"<html>" + b"<p>x</p>" * CAP)
    (page,) = iter_inputs([str(tmp_path / "one.html")], max_bytes=CAP)
    assert "cap" in page.reason and ".jsonl" not in page.reason, "a name that says one page is not ambiguous"


def test_a_json_document_that_is_not_json_lines_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "pages.json").write_text(json.dumps([{"url": "https://x.org/", "html": "<p>x</p>"}], indent=2))
    (tmp_path / "page.json").write_text(json.dumps({"url": "https://x.org/", "html": "<p>x</p>"}, indent=2))
    for name in ("pages.json", "page.json"):
        (item,) = iter_inputs([str(tmp_path / name)], max_bytes=CAP)
        assert isinstance(item, Skipped) and "not JSON Lines" in item.reason and ".jsonl" in item.reason, name


def test_a_text_dump_that_starts_with_a_brace_or_a_bracket_is_still_a_page(tmp_path):
    for name, text in (("wiki.txt", "{{Infobox}} The article starts here."),
                       ("nav.txt", "[Skip to content]\nThe article starts here.")):
        (tmp_path / name).write_text(text)
        (page,) = iter_inputs([str(tmp_path / name)], max_bytes=CAP)
        assert isinstance(page, RawPage) and page.record is None and page.content == text.encode(), name


def test_json_lines_on_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(_page_line(1) + _page_line(2)))))
    items = list(iter_inputs(["-"], max_bytes=CAP))
    assert [(i.source, i.record) for i in items] == [("stdin#1", "jsonl"), ("stdin#2", "jsonl")]


def test_a_name_that_says_gzip_is_taken_at_its_word(tmp_path):
    (tmp_path / "page.html.gz").write_bytes(b"<!DOCTYPE html><p>not gzip at all</p>")
    (item,) = iter_inputs([str(tmp_path / "page.html.gz")], max_bytes=CAP)
    assert isinstance(item, Skipped) and item.reason.startswith("corrupt gzip file") and item.is_page
