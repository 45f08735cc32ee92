"""The producer's inputs as raw pages: files, folders, globs and ``-`` for standard input.

Each file or stream is known by its name when the name says (``.warc[.gz]``, ``.wet[.gz]``,
``.arc[.gz]``, ``.jsonl[.gz]``, ``.ndjson[.gz]``), else by its first bytes (``workers/inputs/sniff.py``):
a gzip layer is undone, then it is an archive, JSON Lines, or one page (HTML or text). Everything
is streamed: one page in memory at a time, and never more than the size cap of it.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import sys
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from workers.inputs.files import GZIP_ERRORS, read_page
from workers.inputs.items import Item, Skipped
from workers.inputs.jsonl import read_jsonl
from workers.inputs.sniff import (
    HEAD_BYTES,
    NOT_JSON_LINES,
    Format,
    format_by_name,
    format_of,
    is_gzip,
    names_a_page,
)
from workers.inputs.warc import read_archive

#: read size for JSON Lines files: a line is a whole page, read in few calls
_JSONL_BUFFER = 1 << 20


def iter_inputs(paths: Iterable[str], *, max_bytes: int, collection: str | None = None) -> Iterator[Item]:
    """Every page of ``paths``, in order, or why an input did not become one."""
    for path in paths:
        if path == "-":
            yield from read_stream(sys.stdin.buffer, "stdin", max_bytes, collection)
        elif os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if not name.startswith("."):
                        yield from read_path(os.path.join(root, name), max_bytes, collection)
        elif os.path.exists(path):
            yield from read_path(path, max_bytes, collection)
        elif glob.has_magic(path):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                yield Skipped(path, "no file matches this pattern", is_page=False)
            for match in matches:
                if os.path.isfile(match):
                    yield from read_path(match, max_bytes, collection)
        else:
            yield Skipped(path, "no such file or directory", is_page=False)


def read_path(path: str, max_bytes: int, collection: str | None) -> Iterator[Item]:
    try:
        with open(path, "rb") as fh:
            yield from read_stream(fh, path, max_bytes, collection, named=format_by_name(path), path=path)
    except OSError as exc:
        yield Skipped(path, f"cannot read: {exc.strerror or exc}")


def read_stream(fh: BinaryIO, source: str, max_bytes: int, collection: str | None, *,
                named: Format | None = None, path: str | None = None) -> Iterator[Item]:
    """The pages of one file or stream: its format is ``named`` (what its extension says) or
    recognized from its first bytes. ``path`` is given for a file (it can be read again)."""
    if named == "archive":  # warcio undoes gzip itself, and we check where its members end
        yield from read_archive(fh, source, max_bytes, collection)
        return
    stream = _buffered(fh)
    head = stream.peek(HEAD_BYTES)[:HEAD_BYTES]
    # A name ending in .gz is taken at its word too: one that is not gzip is a corrupt file.
    gzipped = is_gzip(head) or (path is not None and path.lower().endswith(".gz"))
    if gzipped:
        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
        try:
            head = stream.peek(HEAD_BYTES)[:HEAD_BYTES]
        except GZIP_ERRORS as exc:
            yield Skipped(source, f"corrupt gzip file: {exc}")
            return
    kind = named or format_of(head)
    if kind == "archive":
        if gzipped and path is not None:  # the file itself, so that a cut gzip member is noticed
            with open(path, "rb") as raw:
                yield from read_archive(raw, source, max_bytes, collection)
        else:
            yield from read_archive(stream, source, max_bytes, collection)
    elif kind == "jsonl":
        if path is not None and not gzipped:
            with open(path, "rb", buffering=_JSONL_BUFFER) as lines:
                yield from read_jsonl(lines, source, max_bytes, collection)
        else:
            yield from read_jsonl(stream, source, max_bytes, collection)
    elif kind == "json":
        yield Skipped(source, NOT_JSON_LINES)
    else:
        yield read_page(stream, source, max_bytes, collection, named=path is not None and names_a_page(path))


def _buffered(fh: BinaryIO) -> io.BufferedReader:
    """``fh`` with ``peek``: files opened in binary mode and standard input already have it."""
    return fh if isinstance(fh, io.BufferedReader) else io.BufferedReader(fh)  # type: ignore[arg-type]
