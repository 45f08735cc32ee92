"""Readers that turn the producer's inputs into raw pages.

Inputs: files (HTML or text, optionally ``.gz``), folders (recursive), globs, WARC/WET archives
(``.warc``, ``.warc.gz``, ``.wet``, ``.wet.gz``), JSON Lines (``.jsonl``, ``.jsonl.gz``), and ``-``
for standard input. Everything is streamed: one page in memory at a time, and never more than
the size cap of it.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator

from workers.models import RawPage
from workers.stages.records import parse_time

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz", ".arc", ".arc.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_WARC_BLOCK = 256 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


@dataclass(frozen=True)
class Skipped:
    """An input that did not become a page, and why.

    ``is_page`` is False for things that were never pages (a WARC request record, an image
    response); only real pages that were refused are recorded as failures.
    """

    source: str
    reason: str
    url: str | None = None
    is_page: bool = True


Item = RawPage | Skipped


def iter_inputs(paths: Iterable[str], *, max_bytes: int, collection: str | None = None) -> Iterator[Item]:
    for path in paths:
        if path == "-":
            yield from _read_stdin(max_bytes, collection)
        elif os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if not name.startswith("."):
                        yield from _read_path(os.path.join(root, name), max_bytes, collection)
        elif os.path.exists(path):
            yield from _read_path(path, max_bytes, collection)
        elif glob.has_magic(path):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                yield Skipped(path, "no file matches this pattern", is_page=False)
            for match in matches:
                if os.path.isfile(match):
                    yield from _read_path(match, max_bytes, collection)
        else:
            yield Skipped(path, "no such file or directory", is_page=False)


def _read_path(path: str, max_bytes: int, collection: str | None) -> Iterator[Item]:
    lower = path.lower()
    try:
        if lower.endswith(ARCHIVE_SUFFIXES):
            with open(path, "rb") as fh:
                yield from read_archive(fh, path, max_bytes, collection)
        elif lower.endswith(JSONL_SUFFIXES):
            with _open_maybe_gzip(path, buffering=1 << 20) as fh:  # whole pages per line: big reads
                yield from read_jsonl(fh, path, max_bytes, collection)
        else:
            yield _read_page_file(path, max_bytes, collection)
    except OSError as exc:
        yield Skipped(path, f"cannot read: {exc.strerror or exc}")


def _open_maybe_gzip(path: str, buffering: int = -1) -> BinaryIO:
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb", buffering=buffering)


def _read_capped(fh: BinaryIO, max_bytes: int) -> bytes | None:
    """Up to ``max_bytes`` of ``fh``; None if there is more (so a gzip bomb is never inflated).

    A plain file of known size is read in one call of its size: ``read(max_bytes + 1)`` would
    allocate the whole cap (10 MB) for every small page first."""
    size = None
    if isinstance(fh, io.BufferedReader):
        try:
            info = os.fstat(fh.fileno())
            size = info.st_size if stat.S_ISREG(info.st_mode) else None  # not a pipe (stdin)
        except (OSError, ValueError):
            pass
    if size is not None and size > max_bytes:
        return None
    data = fh.read(max_bytes + 1 if size is None else size + 1)
    if size is not None and len(data) > size:  # grew while we read: read the rest, capped
        data += fh.read(max_bytes + 1 - len(data))
    return None if len(data) > max_bytes else data


def _read_page_file(path: str, max_bytes: int, collection: str | None) -> Item:
    try:
        with _open_maybe_gzip(path) as fh:
            content = _read_capped(fh, max_bytes)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        return Skipped(path, f"corrupt gzip file: {exc}")
    if content is None:
        return Skipped(path, f"page is larger than the {max_bytes:,}-byte cap (GLEANER_MAX_PAGE_BYTES)")
    return RawPage(content=content, source=path, collection=collection)


def read_jsonl(fh: BinaryIO, path: str, max_bytes: int, collection: str | None) -> Iterator[Item]:
    """One page per line, sent as the line itself: the parse stage decodes it
    (``workers/stages/records.py``). A line may be twice the page cap (JSON escapes make it longer
    than its page); a longer one is skipped without being held in memory."""
    limit = 2 * max_bytes
    lineno = 0
    while line := fh.readline(limit + 1):
        lineno += 1
        source = f"{path}#{lineno}"
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield Skipped(source, f"line {lineno} is larger than twice the {max_bytes:,}-byte cap "
                                  "(GLEANER_MAX_PAGE_BYTES)")
            continue
        if line.isspace():
            continue
        yield RawPage(content=line, source=source, collection=collection, record="jsonl")


def _charset_of(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def _starts_with_gzip(fh: BinaryIO) -> bool:
    if hasattr(fh, "peek"):
        return fh.peek(2)[:2] == b"\x1f\x8b"
    if fh.seekable():
        start = fh.tell()
        head = fh.read(2)
        fh.seek(start)
        return head == b"\x1f\x8b"
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

    def __getattr__(self, name: str):
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
            fetched_at = parse_time(record.rec_headers.get_header("WARC-Date"))
            # Read first: a record cut short by the end of the archive (even inside its HTTP
            # headers) is a truncated page, whatever its headers seem to say.
            content = _read_capped(record.content_stream(), max_bytes)
            if content is not None and getattr(record.raw_stream, "limit", 0) > 0:
                yield Skipped(source, "archive is truncated inside this record", url=url)
                return
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
                yield Skipped(source, f"page is larger than the {max_bytes:,}-byte cap (GLEANER_MAX_PAGE_BYTES)", url=url)
                continue
            yield RawPage(content=content, source=source, url=url, fetched_at=fetched_at, collection=collection,
                          kind=kind, charset=charset)  # type: ignore[arg-type]
        if checked is not None and checked.ended_inside_member:
            yield Skipped(f"{path}#{position + 1}", f"archive is truncated: it ends inside a record after record {position}")
    except Exception as exc:  # noqa: BLE001 - warcio raises all kinds of errors on a cut or corrupt archive
        yield Skipped(f"{path}#{position + 1}", f"archive is truncated or corrupt after record {position}: {exc}",
                      is_page=False)


def _read_stdin(max_bytes: int, collection: str | None) -> Iterator[Item]:
    stream: BinaryIO = sys.stdin.buffer
    head = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
    if head.startswith(b"\x1f\x8b"):
        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
        head = stream.peek(64)[:64]
    if head.startswith(b"WARC/"):
        yield from read_archive(stream, "stdin", max_bytes, collection)
        return
    if head.lstrip().startswith(b"{"):
        yield from read_jsonl(stream, "stdin", max_bytes, collection)
        return
    data = _read_capped(stream, max_bytes)
    if data is None:
        yield Skipped("stdin", f"page is larger than the {max_bytes:,}-byte cap (GLEANER_MAX_PAGE_BYTES)")
        return
    yield RawPage(content=data, source="stdin", collection=collection)
