"""The ``gleaner`` command line."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from workers.config import get_settings

app = typer.Typer(help="Gleaner: raw web pages in, clean, entity-tagged, searchable documents out.",
                  no_args_is_help=True, add_completion=False)
failures_app = typer.Typer(help="The failure store: pages that will not be indexed, and why.", no_args_is_help=True)
app.add_typer(failures_app, name="failures")
console = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)

PathsArg = Annotated[list[str], typer.Argument(help="Files, folders, globs, .warc[.gz]/.wet[.gz], .jsonl, or - for stdin.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output, one JSON object per line.")]


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


# --- producer -------------------------------------------------------------------------------

@app.command()
def submit(
    paths: PathsArg,
    collection: Annotated[Optional[str], typer.Option(help="Label for this submission.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow progress until every page is indexed or failed.")] = False,
    timeout: Annotated[float, typer.Option(help="With --wait: give up after this many seconds.")] = 0,
) -> None:
    """Enqueue pages for parsing, enrichment and indexing."""
    from workers.producer import submit as submit_pages
    from workers.runtime import failure_store, progress_store

    settings = get_settings()
    started = time.monotonic()
    with console.status("submitting...") as status:
        summary = submit_pages(
            paths, settings=settings, progress=progress_store(), failures=failure_store(), collection=collection,
            on_page=lambda s: status.update(f"submitting... {s.submitted:,} pages"),
        )
    elapsed = time.monotonic() - started
    console.print(f"batch [bold]{summary.batch_id}[/]: submitted {summary.submitted:,} pages "
                  f"({summary.bytes_submitted / 1e6:,.1f} MB) in {elapsed:.1f}s, skipped {summary.skipped:,}")
    for reason, n in summary.skipped_reasons.most_common():
        console.print(f"  skipped {n:,}: {reason}")
    if summary.refused:
        console.print(f"  {summary.refused:,} refused pages are in the failure store: gleaner failures list")
    if not wait:
        return
    failed = _wait_for_batch(summary.batch_id, timeout)
    raise typer.Exit(1 if failed or summary.refused else 0)


def _wait_for_batch(batch_id: str, timeout: float) -> int:
    from workers.runtime import progress_store

    progress = progress_store()
    deadline = time.monotonic() + timeout if timeout else None
    state = progress.get(batch_id)
    if state is None:
        return 0
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task("indexed+failed", total=state.submitted, detail="")
        last_plain = 0.0
        while True:
            state = progress.get(batch_id)
            assert state is not None
            detail = f"parsed {state.parsed:,} enriched {state.enriched:,} indexed {state.indexed:,} failed {state.failed:,}"
            bar.update(task, completed=state.finished, total=state.submitted, detail=detail)
            if not console.is_terminal and time.monotonic() - last_plain > 5:
                console.print(f"{state.finished:,}/{state.submitted:,} {detail}")
                last_plain = time.monotonic()
            if state.complete:
                break
            if deadline and time.monotonic() > deadline:
                console.print(f"[red]timed out[/] with {state.submitted - state.finished:,} pages still in flight")
                raise typer.Exit(2)
            time.sleep(0.5)
    console.print(f"done: indexed {state.indexed:,}, failed {state.failed:,} of {state.submitted:,}")
    if state.failed:
        console.print("see why: gleaner failures list")
    return state.failed


# --- offline --------------------------------------------------------------------------------

@app.command()
def parse(paths: PathsArg) -> None:
    """Offline: clean pages, print one JSON object per page (no services needed)."""
    from workers.offline import PageFailure, parse_inputs

    failed = 0
    for item in parse_inputs(paths, get_settings()):
        if isinstance(item, PageFailure):
            failed += 1
            console.print_json(json.dumps(item.as_dict()))
            continue
        ex = item.extraction.model_dump(mode="json")
        _print_json({"source": item.source, "url": item.url, "id": item.doc_id, "kind": item.kind,
                     **ex, "language": item.language})
    raise typer.Exit(1 if failed else 0)


@app.command()
def process(
    paths: PathsArg,
    index: Annotated[bool, typer.Option("--index", help="Also write the documents to Elasticsearch.")] = False,
) -> None:
    """Offline: all stages in this process; prints exactly what would be indexed."""
    from workers.offline import PageFailure, ProcessedPage, process_inputs

    settings = get_settings()
    failed = 0
    batch: list[ProcessedPage] = []
    for item in process_inputs(paths, settings):
        if isinstance(item, PageFailure):
            failed += 1
            console.print(json.dumps(item.as_dict(), ensure_ascii=False), highlight=False, soft_wrap=True)
            continue
        _print_json(item.document.model_dump(mode="json"))
        if index:
            batch.append(item)
            if len(batch) >= settings.index_batch_size:
                failed += _index_now(batch)
                batch = []
    if index and batch:
        failed += _index_now(batch)
    raise typer.Exit(1 if failed else 0)


def _index_now(batch: list) -> int:
    from workers.runtime import ensure_index_once, es_client
    from workers.store.elastic import bulk_index

    ensure_index_once()
    results = bulk_index(es_client(), get_settings().index_alias, [(p.doc_id, p.document) for p in batch])
    bad = [r for r in results if r.outcome in ("rejected", "retry")]
    for r in bad:
        console.print(f"index failed for {r.doc_id}: {r.reason}")
    return len(bad)


# --- service --------------------------------------------------------------------------------

@app.command()
def setup() -> None:
    """Install the index template and the write alias (and Kibana objects when configured)."""
    from workers.runtime import es_client
    from workers.store.elastic import ensure_index

    settings = get_settings()
    created = ensure_index(es_client(), settings.index_alias, update_template=True)
    console.print(f"index template installed; alias '{settings.index_alias}' " + ("created" if created else "exists"))
    if settings.kibana_url:
        from workers.store.kibana import import_saved_objects

        console.print(import_saved_objects(settings))


@app.command()
def status(as_json: JsonOpt = False) -> None:
    """Queues, workers, per-stage counts and rates, failures, documents in the index."""
    from workers.runtime import es_client, failure_store, progress_store, redis_client
    from workers.store.elastic import count_documents
    from workers.store.queues import queue_depths, workers_by_queue

    settings = get_settings()
    report: dict[str, Any] = {}
    try:
        redis_client().ping()
        report["redis"] = "ok"
        report["queues"] = queue_depths(redis_client())
        report["processed"] = progress_store().stage_totals()
        report["rates_per_s_5min"] = progress_store().stage_rates()
        report["failures"] = failure_store().count()
    except Exception as exc:  # noqa: BLE001 - status reports what is down
        report["redis"] = f"down: {exc}"
    report["workers"] = workers_by_queue()
    try:
        health = es_client().cluster.health()
        report["elasticsearch"] = health["status"]
        report["documents"] = count_documents(es_client(), settings.index_alias)
    except Exception as exc:  # noqa: BLE001
        report["elasticsearch"] = f"down: {exc.__class__.__name__}"
    if as_json:
        _print_json(report)
        return
    table = Table(title="gleaner status", show_header=False)
    for key, value in report.items():
        table.add_row(key, json.dumps(value) if isinstance(value, (dict, list)) else str(value))
    out.print(table)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Full-text query; empty string for all.")],
    person: Annotated[Optional[list[str]], typer.Option("--person", help="Only pages naming this person.")] = None,
    org: Annotated[Optional[list[str]], typer.Option("--org", help="Only pages naming this organization.")] = None,
    place: Annotated[Optional[list[str]], typer.Option("--place", help="Only pages naming this place.")] = None,
    size: Annotated[int, typer.Option(help="Number of hits.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Search the pages: ranked hits with snippets, and entity facets."""
    from workers.runtime import es_client
    from workers.store.elastic import search_pages

    resp = search_pages(es_client(), get_settings().index_alias, query, persons=person, organizations=org,
                        locations=place, size=size)
    hits = resp["hits"]["hits"]
    if as_json:
        for hit in hits:
            _print_json({"id": hit["_id"], "score": hit["_score"], **hit["_source"]})
        return
    total = resp["hits"]["total"]["value"]
    out.print(f"{total:,} pages match")
    for n, hit in enumerate(hits, 1):
        src = hit["_source"]
        snippet = " ".join(hit.get("highlight", {}).get("body", [])) or (src.get("body") or "")[:180]
        date = (src.get("published_at") or "")[:10]
        out.print(f"\n{n}. [bold]{src.get('title') or '(no title)'}[/]  {src.get('domain') or ''} {date}")
        out.print(f"   {src.get('url') or src.get('source')}")
        out.print(f"   {snippet}")
    for name, agg in resp.get("aggregations", {}).items():
        buckets = ", ".join(f"{b['key']} ({b['doc_count']})" for b in agg["buckets"])
        if buckets:
            out.print(f"\n[bold]{name}[/]: {buckets}")


# --- failures -------------------------------------------------------------------------------

@failures_app.command("list")
def failures_list(as_json: JsonOpt = False) -> None:
    """Failed pages, grouped by reason."""
    from workers.runtime import failure_store

    records = list(failure_store())
    if as_json:
        for r in records:
            _print_json(r.model_dump(mode="json", exclude={"payload"}))
        return
    by_reason: Counter[tuple[str, str]] = Counter((r.stage, r.error) for r in records)
    out.print(f"{len(records):,} failed pages")
    for (stage, error), n in by_reason.most_common():
        out.print(f"\n[bold]{stage}: {error}[/] ({n})")
        for r in [r for r in records if (r.stage, r.error) == (stage, error)][:10]:
            out.print(f"  {r.id}  {r.url or r.source}  {r.reason[:100]}")


@failures_app.command("show")
def failures_show(failure_id: str, as_json: JsonOpt = False) -> None:
    """One failure: stage, reason, attempts, times and the page."""
    from workers.runtime import failure_store

    record = failure_store().find(failure_id)
    if record is None:
        console.print(f"no failure with id {failure_id}")
        raise typer.Exit(1)
    data = record.model_dump(mode="json", exclude={"payload"})
    if as_json:
        _print_json(data)
        return
    for key, value in data.items():
        out.print(f"{key:16} {value}")


@failures_app.command("retry")
def failures_retry(
    failure_id: Annotated[Optional[str], typer.Argument(help="Id (or prefix) of one failure.")] = None,
    reason: Annotated[Optional[str], typer.Option(help="Retry every failure with this error code.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Retry every failure.")] = False,
) -> None:
    """Send failed pages through the pipeline again, from the stage that failed."""
    from workers.retry import retry_failures
    from workers.runtime import failure_store

    store = failure_store()
    if failure_id:
        record = store.find(failure_id)
        records = [record] if record else []
    elif reason or all_:
        records = [r for r in store if all_ or r.error == reason]
    else:
        console.print("name a failure id, --reason CODE or --all")
        raise typer.Exit(2)
    sent, unretryable = retry_failures(store, records)
    console.print(f"resubmitted {sent} pages; {unretryable} cannot be retried (no stored page)")


@failures_app.command("purge")
def failures_purge() -> None:
    """Delete every failure record."""
    from workers.runtime import failure_store

    console.print(f"purged {failure_store().purge()} failure records")


@app.command(hidden=True)
def schemas() -> None:
    """Write the message JSON Schemas to schemas/messages/."""
    from workers.schemas import export_message_schemas

    for path in export_message_schemas():
        console.print(f"wrote {path}")


if __name__ == "__main__":
    app()
