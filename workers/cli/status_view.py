"""How ``gleaner status`` shows its report (pure: the report's dict in, rich renderables out)."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from workers.cli.format import fmt_age, fmt_bytes, fmt_int, fmt_rate, plural, sparkline
from workers.dates import parse_datetime
from workers.pipeline import PIPELINE
from workers.store.progress import RATE_SERIES

STATUS_WINDOWS = (1, 5, 15)  # minutes of the rates in `gleaner status`


def status_ok(report: dict[str, Any]) -> bool:
    """Redis up, Elasticsearch green or yellow, and a live worker on every queue."""
    workers = report.get("workers") or {}
    return (report.get("redis") == "ok" and report.get("elasticsearch") in ("green", "yellow")
            and all(workers.get(q) for q in PIPELINE.names))


def duplicates_text(near: dict[str, Any] | None) -> Text | None:
    """The share of documents that are copies of a story indexed earlier, and the stories."""
    if not near:
        return None
    if "error" in near:
        return Text(f"unknown ({near['error']})", style="yellow")
    if not near.get("placed"):
        return Text("none placed in a story yet", style="dim")
    share = near.get("duplicate_share") or 0.0
    text = Text(f"{share:.1%}", style="bold")
    text.append(f" of {fmt_int(near['placed'])} documents are copies of a story indexed earlier"
                f" ({fmt_int(near['duplicates'])}); {fmt_int(near['stories'])} stories")
    unplaced = (near.get("documents") or 0) - near["placed"]
    if unplaced > 0:
        text.append(f"; {fmt_int(unplaced)} documents from before clusters (gleaner setup places them)",
                    style="yellow")
    return text


def render_status(report: dict[str, Any], *, bundle_pages: int) -> list[RenderableType]:
    parts: list[RenderableType] = []
    health = Table.grid(padding=(0, 2))
    health.add_column(style="bold")
    health.add_column()
    redis_state = report.get("redis", "?")
    ri = report.get("redis_info") or {}
    redis_text = Text(redis_state, style="green" if redis_state == "ok" else "bold red")
    if ri:
        redis_text.append(f"  {ri.get('url')} · {ri.get('version')} · {fmt_bytes(ri.get('used_memory'))} used"
                          f" · AOF {'on' if ri.get('aof_enabled') else 'off'}")
    health.add_row("Redis", redis_text)
    es_state = report.get("elasticsearch", "?")
    ei = report.get("elasticsearch_info") or {}
    es_text = Text(es_state, style={"green": "green", "yellow": "yellow"}.get(es_state, "bold red"))
    if ei:
        indices = ei.get("indices") or {}
        names = ", ".join(indices) or "no index"
        size = sum(i.get("size_bytes") or 0 for i in indices.values())
        es_text.append(f"  {ei.get('url')} · {ei.get('version') or '?'} · {plural(ei.get('nodes') or 0, 'node')}"
                       f" · {ei.get('alias')} -> {names} · {fmt_bytes(size)}")
    health.add_row("Elasticsearch", es_text)
    health.add_row("Documents", fmt_int(report.get("documents")))
    duplicates = duplicates_text(report.get("near_duplicates"))
    if duplicates is not None:
        health.add_row("Duplicates", duplicates)
    parts.append(health)

    if "stages" not in report:  # Redis is down: nothing more to show
        return parts
    stages = report.get("stages") or {}
    queues = report.get("queues") or {}
    workers = report.get("workers") or {}
    pools = report.get("worker_pools") or {}
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1), collapse_padding=True)
    table.add_column("stage", no_wrap=True)
    table.add_column("queued", justify="right", no_wrap=True)
    table.add_column("workers", justify="right", no_wrap=True)
    table.add_column("slots", justify="right", no_wrap=True)
    table.add_column("done", justify="right", no_wrap=True)
    for m in STATUS_WINDOWS:
        table.add_column(f"/s {m}m", justify="right", no_wrap=True)
    table.add_column("last 15 min", no_wrap=True)
    for series in RATE_SERIES:
        st = stages.get(series) or {}
        if series in PIPELINE:
            live = workers.get(series) or []
            slots = sum(pools.get(n, {}).get("concurrency") or 0 for n in live)
            worker_text = Text(str(len(live))) if live else Text("none!", style="bold red")
            slots_text = fmt_int(slots) if slots else ""
            queued = fmt_int(queues.get(series))
        else:
            worker_text, slots_text, queued = Text(""), "", ""
        label = {"submit": "submitted", "failed": "failed"}.get(series, series)
        table.add_row(Text(label, style="red" if series == "failed" and st.get("total") else ""), queued, worker_text,
                      slots_text,
                      fmt_int(st.get("total") or 0),
                      *(fmt_rate(st.get(f"per_s_{m}m"), "") for m in STATUS_WINDOWS),
                      sparkline(st.get("per_minute") or []))
    parts.append(Text(""))
    parts.append(table)
    if "unacked" in queues:
        parts.append(Text(f"unacked: {queues['unacked']:,} (delivered to a worker, not yet acknowledged)", style="dim"))
    parts.append(Text(f"queued and unacked count messages: each is a bundle of up to {bundle_pages} pages; "
                      "done and rates count pages", style="dim"))

    failures = report.get("failures")
    if failures is not None:
        parts.append(Text(""))
        line = Text("Failures: ", style="bold")
        line.append(f"{plural(failures['stored'], 'page')} in the failure store")
        if "retryable" in failures:
            line.append(f" ({failures['retryable']:,} retryable)")
        parts.append(line)
        by_reason = failures.get("by_reason") or {}
        if by_reason:
            grid = Table.grid(padding=(0, 2))
            grid.add_column()
            grid.add_column(justify="right")
            for key, n in list(by_reason.items())[:8]:
                grid.add_row(key, fmt_int(n))
            if len(by_reason) > 8:
                grid.add_row(Text(f"... {len(by_reason) - 8} more reasons", style="dim"), "")
            parts.append(Padding(grid, (0, 0, 0, 2), expand=False))
        if failures["stored"]:
            parts.append(Padding(Text("details: gleaner failures list", style="dim"), (0, 0, 0, 2), expand=False))

    batches = report.get("batches") or []
    if batches:
        parts.append(Text(""))
        parts.append(Text("Recent batches", style="bold"))
        bt = Table(box=None, pad_edge=False, show_header=False, padding=(0, 1))
        for justify in ("left", "left", "left", "right", "left", "left", "right"):
            bt.add_column(justify=justify, no_wrap=True)
        for b in batches:
            finished = b[PIPELINE.last.done] + b["failed"]
            state = Text("done", style="green") if b["complete"] else Text("running", style="yellow")
            started = parse_datetime(b.get("started_at"))
            bt.add_row(b["batch_id"], escape(b.get("collection") or "-"), state,
                       f"{finished:,}/{b['submitted']:,}", f"{PIPELINE.last.done} {b[PIPELINE.last.done]:,}",
                       Text(f"failed {b['failed']:,}", style="red" if b["failed"] else ""), fmt_age(started))
        parts.append(Padding(bt, (0, 0, 0, 2), expand=False))
    return parts
