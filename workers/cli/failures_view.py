"""How ``gleaner failures`` selects, groups and shows failure records (pure: records in, rich
renderables out)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from workers.cli.format import fmt_age, hexdump, plural
from workers.config import get_settings
from workers.models import FailureRecord
from workers.pipeline import can_retry


def select_failures(records: Iterable[FailureRecord], *, reason: str | None = None, stage: str | None = None,
                    batch: str | None = None, collection: str | None = None) -> list[FailureRecord]:
    return [r for r in records
            if (reason is None or r.error == reason) and (stage is None or r.stage == stage)
            and (batch is None or r.batch_id == batch) and (collection is None or r.collection == collection)]


def group_failures(records: list[FailureRecord]) -> list[tuple[tuple[str, str], list[FailureRecord]]]:
    """Records grouped by (stage, error code), largest group first, newest record first."""
    groups: dict[tuple[str, str], list[FailureRecord]] = {}
    for r in records:
        groups.setdefault((r.stage, r.error), []).append(r)
    for members in groups.values():
        members.sort(key=lambda r: r.last_failed_at, reverse=True)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def _short_id(record: FailureRecord) -> str:
    return record.id[:10]


def render_failure_groups(records: list[FailureRecord], *, limit: int = 5, now: float | None = None) -> list[RenderableType]:
    retryable = sum(1 for r in records if can_retry(r))
    parts: list[RenderableType] = [Text(f"{plural(len(records), 'failed page')}, {retryable:,} retryable", style="bold")]
    for (stage, error), members in group_failures(records):
        parts.append(Text(""))
        head = Text(f"{stage} · {error} · {plural(len(members), 'page')}", style="bold")
        if not any(can_retry(r) for r in members):
            head.append("  (not retryable: " + ("resubmit the file" if stage == "submit" else "no stored page") + ")",
                        style="dim")
        parts.append(head)
        reasons = Counter(r.reason for r in members)
        common = reasons.most_common(1)[0][0] if len(reasons) == 1 else None
        rows = Table.grid(padding=(0, 2))
        rows.add_column(style="cyan", no_wrap=True)
        rows.add_column(style="dim", no_wrap=True)
        rows.add_column(overflow="fold")
        for r in members[: limit or None]:
            where = Text(r.url or r.source)
            if common is None:
                where.append(f"\n{r.reason[:200]}", style="italic")
            rows.add_row(_short_id(r), fmt_age(r.last_failed_at, now), where)
        body: list[RenderableType] = []
        if common is not None:
            body.append(Text(common[:300], style="italic"))
        body.append(rows)
        if limit and len(members) > limit:
            body.append(Text(f"... and {len(members) - limit:,} more (--reason {error} --limit 0)", style="dim"))
        parts.append(Padding(Group(*body), (0, 0, 0, 2), expand=False))
    if records:
        parts.append(Text(""))
        parts.append(Text("inspect one: gleaner failures show ID   retry: gleaner failures retry ID | --reason CODE | --all",
                          style="dim"))
    return parts


@dataclass
class PageExcerpt:
    kind: str  # "raw page", "cleaned body", "document body"
    size: int  # bytes of the raw page, characters of a body
    text: str  # what to show: decoded text, or a hex dump for binary content
    note: str | None = None  # "binary: PNG image", "charset cp1252", an error
    data: bytes | None = None  # the whole page (raw bytes or UTF-8 body), for --raw


def page_excerpt(record: FailureRecord, max_chars: int | None = 1500) -> PageExcerpt | None:
    """What a failure's stored message holds of its page: the raw page (parse), the cleaned body
    (enrich) or the document's body (index); None when nothing was stored (refused at submit)."""
    payload = record.payload
    if not payload:
        return None
    if "content_z" in payload:  # a parse message: the raw page
        return _raw_page_excerpt(payload, max_chars)
    if "extraction" in payload:  # a cleaned page
        extraction = payload.get("extraction") or {}
        title, body, kind = extraction.get("title"), extraction.get("body") or "", "cleaned body"
    else:  # a document
        document = payload.get("document") or {}
        title, body, kind = document.get("title"), document.get("body") or "", "document body"
    text = (f"{title}\n\n" if title else "") + body
    shown = text if max_chars is None else text[:max_chars]
    return PageExcerpt(kind, len(body), shown, f"title: {title}" if title else None, text.encode("utf-8"))


def _raw_page_excerpt(payload: dict[str, Any], max_chars: int | None) -> PageExcerpt:
    import zlib

    import zstandard

    from workers.errors import PermanentPageError
    from workers.messages import decompress
    from workers.stages.decode import decode_bytes, sniff_binary

    limit = get_settings().max_page_bytes
    try:
        raw = decompress(payload.get("content_z") or "", payload.get("codec") or "zlib", limit)
    except (ValueError, zlib.error, zstandard.ZstdError) as exc:
        return PageExcerpt("raw page", 0, "", f"the stored page cannot be decoded: {exc}")
    note = None
    if len(raw) > limit:
        raw, note = raw[:limit], f"inflates beyond the {limit:,}-byte cap; first {limit:,} bytes"
    binary = sniff_binary(raw)
    if binary or not raw.strip():
        what = f"binary: {binary}" if binary else "empty"
        dump = hexdump(raw, limit=128 if max_chars is not None else max(len(raw), 1))
        return PageExcerpt("raw page", len(raw), dump, what if not note else f"{what}; {note}", raw)
    try:
        text, encoding = decode_bytes(raw, payload.get("charset"))
    except PermanentPageError as exc:
        return PageExcerpt("raw page", len(raw), hexdump(raw), exc.reason, raw)  # pragma: no cover
    shown = text if max_chars is None else text[:max_chars]
    return PageExcerpt("raw page", len(raw), shown, f"{encoding}" + (f"; {note}" if note else ""), raw)


def render_failure(record: FailureRecord, excerpt: PageExcerpt | None) -> list[RenderableType]:
    """One failure: its fields, how to retry it, and the excerpt of its page."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("failure", record.id)
    grid.add_row("stage", record.stage)
    grid.add_row("error", Text(record.error, style="red"))
    grid.add_row("reason", Text(record.reason))
    grid.add_row("url", Text(record.url or "-"))
    grid.add_row("source", Text(record.source))
    grid.add_row("collection", Text(record.collection or "-"))
    grid.add_row("batch", record.batch_id or "-")
    grid.add_row("attempts", str(record.attempts))
    grid.add_row("first failed", f"{record.first_failed_at:%Y-%m-%d %H:%M:%S %Z} ({fmt_age(record.first_failed_at)})")
    grid.add_row("last failed", f"{record.last_failed_at:%Y-%m-%d %H:%M:%S %Z} ({fmt_age(record.last_failed_at)})")
    retry_hint = (f"gleaner failures retry {_short_id(record)}" if can_retry(record)
                  else "not retryable: resubmit the file with gleaner submit" if record.stage == "submit"
                  else "not retryable: no stored page")
    grid.add_row("retry", Text(retry_hint))
    parts: list[RenderableType] = [grid, Text("")]
    if excerpt is None:
        parts.append(Text("no page stored with this failure (pages refused at submit are not kept)", style="dim"))
        return parts
    size = f"{excerpt.size:,} bytes" if excerpt.kind == "raw page" else f"{excerpt.size:,} characters"
    head = f"{excerpt.kind}, {size}" + (f", {excerpt.note}" if excerpt.note else "")
    parts.append(Rule(Text(head, style="bold"), align="left"))
    parts.append(Text(excerpt.text.rstrip()))
    parts.append(Rule(Text("--full: the whole page; --raw: the stored page itself", style="dim"), align="left"))
    return parts
