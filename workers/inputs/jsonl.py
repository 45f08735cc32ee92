"""Input records that still wrap their page: a JSON Lines line travels as it was read, and the
parse stage takes the page out of it here (the producer only splits lines, so it keeps up with
reading; decoding a line costs as much as compressing it).
"""

from __future__ import annotations

import json
from datetime import datetime

import orjson

from workers.dates import parse_datetime
from workers.models import RawPage
from workers.stages.errors import PermanentPageError


def parse_time(value: object) -> datetime | None:
    """A timestamp as written in an input (ISO 8601 or a looser date); naive ones are UTC."""
    return parse_datetime(value)


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
    body, kind = (html, "html") if isinstance(html, str) else (text, "text") if isinstance(text, str) else (None, None)
    if body is None:
        raise PermanentPageError("invalid_record", f"{name} has neither an 'html' nor a 'text' string")
    content = body.encode("utf-8", errors="replace")
    if len(content) > max_bytes:
        raise PermanentPageError("oversized", f"page is larger than the {max_bytes:,}-byte cap (GLEANER_MAX_PAGE_BYTES)")
    return RawPage(
        content=content,
        source=source,
        url=url,
        fetched_at=parse_time(obj.get("fetched_at")),
        collection=obj.get("collection") if isinstance(obj.get("collection"), str) else collection,
        kind=kind,  # type: ignore[arg-type]
        charset="utf-8",
    )


def open_record(page: RawPage, *, max_bytes: int) -> RawPage:
    """The page itself: ``page`` unless it is a record that wraps one."""
    if page.record == "jsonl":
        return page_from_jsonl(page.content, source=page.source, collection=page.collection, max_bytes=max_bytes)
    return page
