"""JSON Lines, both halves: the producer splits a file into lines (``read_jsonl``), each line
travels as it was read, and the parse stage takes the page out of it (``open_record``). The
producer only splits lines, so it keeps up with reading; decoding a line costs as much as
compressing it.

A line is one page: ``url``, and ``html`` or ``text``, optionally ``fetched_at`` and
``collection`` (which wins over the submission's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

import orjson

from workers.dates import parse_datetime
from workers.errors import PermanentPageError
from workers.inputs.items import Item, Skipped, over_cap
from workers.models import PageKind, RawPage


def read_jsonl(fh: BinaryIO, path: str, max_bytes: int, collection: str | None) -> Iterator[Item]:
    """The producer's half: one page per line, sent as the line itself (``open_record`` decodes it
    in the parse stage). A line may be twice the page cap (JSON escapes make it longer than its
    page); a longer one is skipped without being held in memory."""
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


def _loads_line(line: bytes) -> object:
    """orjson (about twice as fast on pages full of escaped HTML); the standard library for what
    orjson refuses and it accepts (lone surrogates, NaN)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def _line_name(source: str) -> str:
    _, _, lineno = source.rpartition("#")
    return f"line {lineno}" if lineno.isdigit() else "the line"


def page_from_jsonl(line: bytes, *, source: str, collection: str | None, max_bytes: int) -> RawPage:
    """The page of one JSON Lines record: ``url``, ``html`` or ``text``, optional ``fetched_at``
    and ``collection`` (which wins over the submission's).

    Raises ``PermanentPageError`` (``invalid_record``, ``oversized``) for a line that carries no page.
    """
    name = _line_name(source)
    try:
        obj = _loads_line(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PermanentPageError("invalid_record", f"{name} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise PermanentPageError("invalid_record", f"{name} is not a JSON object")
    url = obj.get("url") if isinstance(obj.get("url"), str) else None
    html, text = obj.get("html"), obj.get("text")
    kind: PageKind
    if isinstance(html, str):
        body, kind = html, "html"
    elif isinstance(text, str):
        body, kind = text, "text"
    else:
        raise PermanentPageError("invalid_record", f"{name} has neither an 'html' nor a 'text' string")
    content = body.encode("utf-8", errors="replace")
    if len(content) > max_bytes:
        raise PermanentPageError("oversized", over_cap(max_bytes))
    return RawPage(
        content=content,
        source=source,
        url=url,
        fetched_at=parse_datetime(obj.get("fetched_at")),
        collection=obj.get("collection") if isinstance(obj.get("collection"), str) else collection,
        kind=kind,
        charset="utf-8",
    )


def open_record(page: RawPage, *, max_bytes: int) -> RawPage:
    """The parse stage's half: the page itself, ``page`` unless it is a record that wraps one."""
    if page.record == "jsonl":
        return page_from_jsonl(page.content, source=page.source, collection=page.collection, max_bytes=max_bytes)
    return page
