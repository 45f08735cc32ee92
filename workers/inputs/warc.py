"""WARC, WET and ARC archives: the pages of their ``response``, ``conversion`` and ``resource``
records, streamed one record at a time."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator

from workers.dates import parse_datetime
from workers.inputs.files import read_capped
from workers.inputs.items import Item, Skipped, over_cap
from workers.inputs.sniff import GZIP_MAGIC
from workers.models import PageKind, RawPage

_WARC_BLOCK = 256 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


def _charset_of(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def _starts_with_gzip(fh: BinaryIO) -> bool:
    if hasattr(fh, "peek"):
        return bool(fh.peek(2)[:2] == GZIP_MAGIC)
    if fh.seekable():
        start = fh.tell()
        head = fh.read(2)
        fh.seek(start)
        return head == GZIP_MAGIC
    return False


class _GzipEndCheck:
    """A read-through wrapper that tells whether a gzip stream ended on a member boundary.

    warcio stops silently when the last gzip member of an archive is cut short; inflating the
    same bytes alongside (and discarding the output) shows that the stream ended mid-member.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._inflater = zlib.decompressobj(wbits=31)
        self._in_member = False

    def read(self, size: int = -1) -> bytes:
        chunk = self._fh.read(size)
        pending = chunk
        while pending:
            self._in_member = True
            self._inflater.decompress(pending)  # the output is warcio's business, not ours
            if not self._inflater.eof:
                break
            pending = self._inflater.unused_data
            self._inflater = zlib.decompressobj(wbits=31)
            self._in_member = False
        return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    @property
    def ended_inside_member(self) -> bool:
        return self._in_member


def read_archive(fh: BinaryIO, path: str, max_bytes: int, collection: str | None) -> Iterator[Item]:
    """Pages of a WARC (``response`` records) or WET (``conversion`` records) file."""
    position = 0
    checked = _GzipEndCheck(fh) if _starts_with_gzip(fh) else None
    try:
        # Blocks of 256 kB instead of warcio's 16 kB: a page is read in one or two Python-level steps.
        for position, record in enumerate(ArchiveIterator(checked or fh, arc2warc=True, block_size=_WARC_BLOCK)):
            source = f"{path}#{position}"
            url = record.rec_headers.get_header("WARC-Target-URI")
            if not (record.rec_headers.get_header("Content-Length") or "").strip().isdigit():
                # Every record states its length; warcio hands on a record cut inside its headers
                # as one without it (or with an empty one), whatever its type.
                yield Skipped(source, "archive is truncated inside this record", url=url)
                return
            if record.rec_type not in ("response", "conversion", "resource"):
                continue
            fetched_at = parse_datetime(record.rec_headers.get_header("WARC-Date"))
            # Read first: a record cut short by the end of the archive (even inside its HTTP
            # headers) is a truncated page, whatever its headers seem to say.
            content = read_capped(record.content_stream(), max_bytes)
            if content is not None and getattr(record.raw_stream, "limit", 0) > 0:
                yield Skipped(source, "archive is truncated inside this record", url=url)
                return
            kind: PageKind | None
            charset: str | None
            if record.rec_type == "conversion":
                kind, charset = "text", "utf-8"
            else:
                if record.http_headers is not None:
                    status = record.http_headers.get_statuscode()
                    if status and not status.startswith("2"):
                        yield Skipped(source, f"HTTP status {status}", url=url, is_page=False)
                        continue
                    content_type = record.http_headers.get_header("Content-Type") or ""
                else:
                    content_type = record.rec_headers.get_header("Content-Type") or ""
                mime = content_type.split(";")[0].strip().lower()
                if mime not in _HTML_TYPES:
                    yield Skipped(source, f"not a web page ({mime})", url=url, is_page=False)
                    continue
                kind = "text" if mime == "text/plain" else None
                charset = _charset_of(content_type)
            if content is None:
                yield Skipped(source, over_cap(max_bytes), url=url)
                continue
            yield RawPage(content=content, source=source, url=url, fetched_at=fetched_at, collection=collection,
                          kind=kind, charset=charset)
        if checked is not None and checked.ended_inside_member:
            yield Skipped(f"{path}#{position + 1}", f"archive is truncated: it ends inside a record after record {position}")
    except Exception as exc:  # noqa: BLE001 - warcio raises all kinds of errors on a cut or corrupt archive
        yield Skipped(f"{path}#{position + 1}", f"archive is truncated or corrupt after record {position}: {exc}",
                      is_page=False)


