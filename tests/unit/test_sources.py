import gzip
import io
import json

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from workers.models import RawPage
from workers.sources import Skipped, iter_inputs, read_archive, read_jsonl

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


def test_jsonl_line_over_twice_the_cap_is_skipped_without_reading_it_whole(tmp_path):
    path = tmp_path / "big.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(json.dumps({"url": "https://x.org/ok", "text": "a" * (CAP - 10)}).encode() + b"\n")
        fh.write(b'{"text": "' + b"a" * (CAP * 3) + b'"}\n')
        fh.write(json.dumps({"url": "https://x.org/after"}).encode() + b"\n")
    items = list(iter_inputs([str(path)], max_bytes=CAP))
    assert [type(i).__name__ for i in items] == ["RawPage", "Skipped", "RawPage"]
    assert "cap" in items[1].reason and items[1].source.endswith("#2") and items[2].source.endswith("#3")


def _warc(records, gz=True):
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    for url, ctype, body, status in records:
        http = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    return buf.getvalue()


def test_warc_responses_become_pages():
    data = _warc([
        ("https://x.org/a", "text/html; charset=windows-1252", b"<p>caf\xe9</p>", "200 OK"),
        ("https://x.org/img.png", "image/png", b"\x89PNG", "200 OK"),
        ("https://x.org/missing", "text/html", b"nope", "404 Not Found"),
    ])
    items = list(read_archive(io.BytesIO(data), "c.warc.gz", CAP, "col"))
    pages = _pages(items)
    assert len(pages) == 1
    page = pages[0]
    assert page.url == "https://x.org/a" and page.charset == "windows-1252" and page.content == b"<p>caf\xe9</p>"
    assert page.fetched_at is not None and page.collection == "col" and page.source == "c.warc.gz#0"
    assert {i.reason.split(" (")[0] for i in items if isinstance(i, Skipped)} == {"not a web page", "HTTP status 404"}


@pytest.mark.parametrize("gz,cut", [(False, 30), (False, 100), (False, 20000),
                                    (True, 30), (True, 100), (True, 150), (True, 200)])
def test_truncated_warc_keeps_earlier_pages_and_reports(gz, cut):
    data = _warc([("https://x.org/a", "text/html", b"<p>a</p>" * 50, "200 OK"),
                  ("https://x.org/b", "text/html", b"<p>b</p>" * 5000, "200 OK")], gz=gz)
    items = list(read_archive(io.BytesIO(data[: max(0, len(data) - cut)]), "t.warc", CAP, None))
    assert _pages(items)[0].url == "https://x.org/a"
    assert "https://x.org/b" not in [p.url for p in _pages(items)]
    assert isinstance(items[-1], Skipped) and "truncated" in items[-1].reason


def test_complete_gzipped_warc_is_not_reported_truncated():
    data = _warc([("https://x.org/a", "text/html", b"<p>a</p>" * 50, "200 OK")], gz=True)
    items = list(read_archive(io.BytesIO(data), "t.warc.gz", CAP, None))
    assert [type(i).__name__ for i in items] == ["RawPage"]
