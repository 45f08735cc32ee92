"""WARC, WET and ARC archives (``workers/inputs/warc.py``), from files and from standard input."""

import gzip
import io
import os
import sys

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from workers.inputs import Skipped, iter_inputs
from workers.inputs.warc import read_archive
from workers.models import RawPage

pytestmark = pytest.mark.unit
CAP = 100_000


def _pages(items):
    return [i for i in items if isinstance(i, RawPage)]


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


def _record(rtype, uri, ctype, block, date="2024-03-01T10:00:00Z"):
    head = (f"WARC/1.0\r\nWARC-Type: {rtype}\r\nWARC-Target-URI: {uri}\r\nWARC-Date: {date}\r\n"
            f"WARC-Record-ID: <urn:uuid:{rtype}>\r\nContent-Type: {ctype}\r\nContent-Length: {len(block)}\r\n\r\n")
    return head.encode() + block + b"\r\n\r\n"


def _http(headers, body, status="200 OK"):
    return f"HTTP/1.1 {status}\r\n".encode() + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers) + b"\r\n" + body


_AH = "application/http; msgtype=response"


def test_warc_records_are_read_as_warcio_read_them():
    data = b"".join([
        _record("warcinfo", "", "application/warc-fields", b"software: x\r\n"),
        _record("request", "https://x.org/a", "application/http; msgtype=request", b"GET / HTTP/1.1\r\n\r\n"),
        _record("response", "<https://x.org/a>", _AH, _http([("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")],
                                                             b"5\r\n<p>he\r\n7\r\nllo</p>\r\n0\r\n\r\n")),
        _record("response", "https://x.org/gz", _AH, _http([("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                                                           gzip.compress(b"<p>gz</p>"))),
        _record("response", "https://x.org/lf", "text/html", b"HTTP/1.1 404 Not Found\nContent-Type: text/html\n\nx"),
        _record("resource", "https://x.org/r", _AH, _http([("Content-Type", "text/html")], b"<p>r</p>")),
        _record("conversion", "https://x.org/a", "text/plain", "WET text".encode()),
    ])
    items = list(read_archive(io.BytesIO(data), "w.warc", CAP, None))
    got = [(i.source.split("#")[1], getattr(i, "content", None) or i.reason) for i in items]
    # Positions count every record; HTTP headers are parsed for response records of http(s) URIs
    # (whatever their Content-Type), not for resource records; chunked and gzip payloads are decoded.
    assert got == [("2", b"<p>hello</p>"), ("3", b"<p>gz</p>"), ("4", "HTTP status 404"),
                   ("5", "not a web page (application/http)"), ("6", b"WET text")]
    assert items[0].url == "https://x.org/a" and items[-1].kind == "text" and items[-1].charset == "utf-8"


def test_content_encoded_page_is_capped_after_decoding():
    bomb = gzip.compress(b"<p>" + b"a" * (CAP * 20))
    data = _record("response", "https://x.org/bomb", _AH,
                   _http([("Content-Type", "text/html"), ("Content-Encoding", "gzip")], bomb))
    (item,) = read_archive(io.BytesIO(gzip.compress(data)), "b.warc.gz", CAP, None)
    assert isinstance(item, Skipped) and "cap" in item.reason


@pytest.mark.parametrize("gz", [False, True])
def test_archive_cut_inside_the_warc_headers_of_a_record(gz):
    first, second = (_record("response", f"https://x.org/{n}", _AH, _http([("Content-Type", "text/html")], b"<p>x</p>"))
                     for n in (1, 2))
    # Cut before the record's type, and inside its Content-Length. (A cut after every header but
    # before the blank line that ends them is still lost silently: warcio takes it for the end.)
    for cut in (10, second.index(b"Content-Length") + 15):
        data = (gzip.compress(first) + gzip.compress(second[:cut])) if gz else first + second[:cut]
        items = list(read_archive(io.BytesIO(data), "h.warc", CAP, None))
        assert [type(i).__name__ for i in items] == ["RawPage", "Skipped"], cut
        assert items[1].reason == "archive is truncated inside this record" and items[1].is_page


def test_gzip_warc_cut_in_its_last_member_trailer_is_reported():
    data = _warc([("https://x.org/a", "text/html", b"<p>a</p>", "200 OK")], gz=True)
    items = list(read_archive(io.BytesIO(data[:-4]), "t.warc.gz", CAP, None))
    assert [type(i).__name__ for i in items] == ["RawPage", "Skipped"]
    assert items[1].reason == "archive is truncated: it ends inside a record after record 0"


def test_not_a_warc_is_reported_corrupt():
    (item,) = read_archive(io.BytesIO(b"<html>not a warc</html>"), "x.warc", CAP, None)
    assert isinstance(item, Skipped) and not item.is_page and item.reason.startswith("archive is truncated or corrupt")


def _arc(records):
    intro = b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n"
    out = [b"filedesc://t.arc 0.0.0.0 20240101000000 text/plain %d\n" % len(intro) + intro + b"\n"]
    for url, ctype, body in records:
        out.append(b"%s 1.2.3.4 20240102030405 %s %d\n" % (url.encode(), ctype.encode(), len(body)) + body + b"\n")
    return out


@pytest.mark.parametrize("name", ["old.arc", "old.arc.gz", "arc-named.warc"])
def test_arc_files_are_still_read(tmp_path, name):
    parts = _arc([("http://x.org/a", "text/html", b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>arc</p>"),
                  ("http://x.org/b", "text/html", b"HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\nno")])
    path = tmp_path / name
    path.write_bytes(b"".join(gzip.compress(p) for p in parts) if name.endswith(".gz") else b"".join(parts))
    items = list(iter_inputs([str(path)], max_bytes=CAP))
    assert [type(i).__name__ for i in items] == ["RawPage", "Skipped"]
    page = items[0]
    assert page.content == b"<p>arc</p>" and page.url == "http://x.org/a" and page.source.endswith("#1")
    assert page.fetched_at.isoformat() == "2024-01-02T03:04:05+00:00" and items[1].reason == "HTTP status 404"


@pytest.mark.parametrize("gz", [False, True])
def test_warc_on_stdin_pipe(monkeypatch, gz):
    data = _warc([("https://x.org/a", "text/html", b"<p>a</p>", "200 OK"),
                  ("https://x.org/b", "image/png", b"\x89PNG", "200 OK")], gz=gz)
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(open(read_end, "rb")))
    items = list(iter_inputs(["-"], max_bytes=CAP))
    assert [(type(i).__name__, i.source) for i in items] == [("RawPage", "stdin#0"), ("Skipped", "stdin#1")]
    assert items[0].content == b"<p>a</p>"
