"""Reading a file or stream without ever holding more than the page cap of it."""

from __future__ import annotations

import gzip
import io
import os
import stat
import zlib
from typing import BinaryIO

from workers.inputs.items import Item, Skipped, over_cap
from workers.inputs.sniff import NAMES_THAT_WORK
from workers.models import RawPage

GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


def read_capped(fh: BinaryIO, max_bytes: int) -> bytes | None:
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


def read_page(fh: BinaryIO, source: str, max_bytes: int, collection: str | None, *, named: bool = False) -> Item:
    """The whole of ``fh`` as one page (its gzip layer already undone by the caller). ``named``:
    its name says it is one page (``.html``, ``.txt``)."""
    try:
        content = read_capped(fh, max_bytes)
    except GZIP_ERRORS as exc:
        return Skipped(source, f"corrupt gzip file: {exc}")
    if content is None:
        if named:
            return Skipped(source, over_cap(max_bytes))
        # Too big for a page: perhaps it holds many, under a name that did not say so.
        return Skipped(source, f"{over_cap(max_bytes)}; if it holds several pages, {NAMES_THAT_WORK}")
    return RawPage(content=content, source=source, collection=collection)
