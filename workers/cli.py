"""The ``gleaner`` command line."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.padding import Padding
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from workers.config import get_settings

if TYPE_CHECKING:
    from workers.models import FailureRecord
    from workers.producer import SubmitSummary
    from workers.store.failures import FailureStore
    from workers.store.progress import BatchProgress, ProgressStore

app = typer.Typer(help="Gleaner: raw web pages in, clean, entity-tagged, searchable documents out.",
                  no_args_is_help=True, add_completion=False)
failures_app = typer.Typer(help="The failure store: pages that will not be indexed, and why. "
                                "Without a command: the list, grouped by reason.")
app.add_typer(failures_app, name="failures")
console = Console(stderr=True, soft_wrap=True)
out = Console(highlight=False)

PathsArg = Annotated[list[str], typer.Argument(help="Files, folders, globs, .warc[.gz]/.wet[.gz], .jsonl, or - for stdin.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output, one JSON object per line.")]


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


# --- formatting helpers (pure) ---------------------------------------------------------------

def fmt_int(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"  # pragma: no cover


def fmt_rate(per_s: float | None, unit: str = "/s") -> str:
    """``1,234/s``, ``12.3/s``, ``0.05/s``; ``-`` when unknown."""
    if per_s is None:
        return "-"
    if per_s >= 100:
        return f"{per_s:,.0f}{unit}"
    if per_s >= 10:
        return f"{per_s:.1f}{unit}"
    return f"{per_s:.2f}{unit}"


def fmt_duration(seconds: float | None) -> str:
    """``0:00:07``, ``1:02:03``, ``2d 03:04:05``; ``-`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "-"
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def fmt_elapsed(seconds: float) -> str:
    """``3.2s``, ``2m 05s``, ``1h 02m``: a duration for a summary line."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h {int(seconds % 3600 // 60):02d}m"


def fmt_age(then: datetime | float | None, now: float | None = None) -> str:
    """How long ago: ``12s ago``, ``5 min ago``, ``3 h ago``, ``2 days ago``."""
    if then is None:
        return "-"
    ts = then.timestamp() if isinstance(then, datetime) else float(then)
    age = (time.time() if now is None else now) - ts
    if age < 60:
        return f"{max(age, 0):.0f}s ago"
    if age < 3600:
        return f"{age / 60:.0f} min ago"
    if age < 86400 * 2:
        return f"{age / 3600:.0f} h ago"
    return f"{age / 86400:.0f} days ago"


_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """One character per value, ``·`` for zero, scaled to the largest."""
    top = max(values, default=0)
    if top <= 0:
        return "·" * len(values)
    return "".join("·" if v <= 0 else _SPARKS[min(len(_SPARKS) - 1, int(v / top * (len(_SPARKS) - 1) + 0.5))]
                   for v in values)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


class RateMeter:
    """Rate of a growing counter over a sliding window of samples."""

    def __init__(self, window_s: float = 30.0) -> None:
        self.window_s = window_s
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, t: float, value: int) -> None:
        if self.samples and value < self.samples[-1][1]:  # a counter never goes back: restart
            self.samples.clear()
        self.samples.append((t, value))
        while len(self.samples) > 2 and t - self.samples[1][0] >= self.window_s:
            self.samples.popleft()

    def rate(self) -> float | None:
        if len(self.samples) < 2:
            return None
        (t0, v0), (t1, v1) = self.samples[0], self.samples[-1]
        if t1 - t0 < 1.0:
            return None
        return (v1 - v0) / (t1 - t0)


# --- submit ---------------------------------------------------------------------------------

@dataclass
class BatchView:
    """What the progress display shows of one batch at one moment."""

    batch_id: str
    elapsed_s: float
    submitting: bool
    submitted: int
    bytes_submitted: int
    parsed: int
    enriched: int
    indexed: int
    failed: int
    rates: dict[str, float | None] = field(default_factory=dict)
    follow: bool = True

    @property
    def finished(self) -> int:
        return self.indexed + self.failed

    @property
    def eta_s(self) -> float | None:
        """Time left at the current rate of pages finishing; unknown while still submitting."""
        if self.submitting:
            return None
        remaining = self.submitted - self.finished
        if remaining <= 0:
            return 0.0
        rate = self.rates.get("finished")
        return remaining / rate if rate else None


def plain_progress_line(view: BatchView) -> str:
    """One line of progress for logs and pipes (no terminal)."""
    rate = view.rates.get("finished")
    if view.submitting:
        head = (f"submitting {view.submitted:,} pages ({fmt_bytes(view.bytes_submitted)}, "
                f"{fmt_rate(view.rates.get('submitted'), ' pages/s')})")
    else:
        head = f"{view.finished:,}/{view.submitted:,} done"
    if not view.follow:
        return f"[{fmt_duration(view.elapsed_s)}] {head}"
    parts = [f"[{fmt_duration(view.elapsed_s)}] {head}", f"parsed {view.parsed:,}", f"enriched {view.enriched:,}",
             f"indexed {view.indexed:,}", f"failed {view.failed:,}", fmt_rate(rate, " pages/s")]
    if not view.submitting:
        parts.append(f"ETA {fmt_duration(view.eta_s)}")
    return " | ".join(parts)


def progress_renderable(view: BatchView, follow: bool = True) -> RenderableType:
    """The live display: one bar per stage with counts and rates, then elapsed time and ETA."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", min_width=10)
    grid.add_column(width=32)
    grid.add_column(justify="right", min_width=20)
    grid.add_column(justify="right", min_width=9)
    if view.submitting:
        grid.add_row("submitting", ProgressBar(total=None, pulse=True, width=32),
                     f"{view.submitted:,} pages  {fmt_bytes(view.bytes_submitted)}",
                     fmt_rate(view.rates.get("submitted")))
    else:
        grid.add_row("submitted", ProgressBar(total=1, completed=1, width=32),
                     f"{view.submitted:,} pages  {fmt_bytes(view.bytes_submitted)}", "")
    if follow:
        total = max(view.submitted, 1)
        for label, count, key in (("parsed", view.parsed, "parsed"), ("enriched", view.enriched, "enriched"),
                                  ("indexed", view.indexed, "indexed")):
            grid.add_row(label, ProgressBar(total=total, completed=min(count, total), width=32),
                         f"{count:,} / {view.submitted:,}", fmt_rate(view.rates.get(key)))
        grid.add_row(Text("failed", style="bold red" if view.failed else "bold"), "",
                     Text(f"{view.failed:,}", style="red" if view.failed else ""), fmt_rate(view.rates.get("failed")))
    footer = Text(f"batch {view.batch_id}   elapsed {fmt_duration(view.elapsed_s)}", style="dim")
    if follow:
        footer.append(f"   ETA {fmt_duration(view.eta_s) if not view.submitting else 'after submission'}", style="dim")
    return Group(grid, footer)


class BatchMonitor:
    """Follows one batch: its submission (fed by the producer) and its counters in Redis (read at
    most every ``poll_s``), with rates over the last ``window_s`` seconds. Thread-safe: the live
    display reads it from its refresh thread while the producer feeds it."""

    _SERIES = ("submitted", "parsed", "enriched", "indexed", "failed", "finished")

    def __init__(self, store: ProgressStore | None, batch_id: str, *, poll_s: float = 0.5, window_s: float = 20.0,
                 follow: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.batch_id = batch_id
        self.follow = follow
        self.poll_s = poll_s
        self.clock = clock
        self.started = clock()
        self.ended: float | None = None
        self.submitting = True
        self.submitted = 0
        self.bytes_submitted = 0
        self.state: BatchProgress | None = None
        self._last_poll = float("-inf")
        self._lock = threading.Lock()
        self.meters = {name: RateMeter(window_s) for name in self._SERIES}

    def on_submit(self, summary: SubmitSummary) -> None:
        with self._lock:
            self.submitted = summary.submitted
            self.bytes_submitted = summary.bytes_submitted
            self.meters["submitted"].add(self.clock(), summary.submitted)

    def end_submit(self, summary: SubmitSummary) -> None:
        self.on_submit(summary)
        with self._lock:
            self.submitting = False

    def poll(self, force: bool = False) -> BatchProgress | None:
        if not self.follow or self.store is None:
            return None
        with self._lock:
            now = self.clock()
            if not force and now - self._last_poll < self.poll_s:
                return self.state
            self._last_poll = now
        state = self.store.get(self.batch_id)
        with self._lock:
            if state is not None:
                self.state = state
                for name in ("parsed", "enriched", "indexed", "failed", "finished"):
                    self.meters[name].add(now, getattr(state, name))
            return self.state

    def view(self) -> BatchView:
        self.poll()
        with self._lock:
            st = self.state
            now = self.ended if self.ended is not None else self.clock()
            return BatchView(
                batch_id=self.batch_id, elapsed_s=now - self.started, submitting=self.submitting,
                submitted=max(self.submitted, st.submitted if st else 0), bytes_submitted=self.bytes_submitted,
                parsed=st.parsed if st else 0, enriched=st.enriched if st else 0,
                indexed=st.indexed if st else 0, failed=st.failed if st else 0,
                rates={name: meter.rate() for name, meter in self.meters.items()}, follow=self.follow,
            )

    def __rich__(self) -> RenderableType:
        return progress_renderable(self.view(), follow=self.follow)


def _live_display() -> bool:
    """A live display only when both stdout and stderr are terminals."""
    return console.is_terminal and out.is_terminal and not console.is_dumb_terminal


@app.command()
def submit(
    paths: PathsArg,
    collection: Annotated[Optional[str], typer.Option(help="Label for this submission.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow progress until every page is indexed or failed.")] = False,
    timeout: Annotated[float, typer.Option(help="With --wait: give up after this many seconds.")] = 0,
    plain: Annotated[bool, typer.Option("--plain", help="Progress as plain lines even on a terminal.")] = False,
    interval: Annotated[float, typer.Option(help="Plain mode: seconds between progress lines.")] = 10.0,
) -> None:
    """Enqueue pages for parsing, enrichment and indexing; with --wait, follow them to the end.

    On a terminal the progress is a live display (pages submitted, parsed, enriched, indexed,
    failed, rates, ETA); otherwise, or with --plain, a line every --interval seconds."""
    from workers.producer import new_batch_id
    from workers.producer import submit as submit_pages
    from workers.runtime import failure_store, progress_store

    settings = get_settings()
    live = _live_display() and not plain
    batch_id = new_batch_id()
    monitor = BatchMonitor(progress_store(), batch_id, follow=wait)
    console.print(f"batch {batch_id}: submitting" + (f" to collection {escape(collection)}" if collection else ""),
                  highlight=False)
    last_line = [time.monotonic()]

    def on_page(summary: SubmitSummary) -> None:
        monitor.on_submit(summary)
        if not live and time.monotonic() - last_line[0] >= interval:
            last_line[0] = time.monotonic()
            console.print(plain_progress_line(monitor.view()), highlight=False, soft_wrap=True)

    started = time.monotonic()
    display = Live(monitor, console=console, refresh_per_second=4, transient=not wait) if live else None
    try:
        if display:
            display.start()
        try:
            summary = submit_pages(paths, settings=settings, progress=progress_store(), failures=failure_store(),
                                   collection=collection, batch_id=batch_id, on_page=on_page)
        except KeyboardInterrupt:
            if display:
                display.stop()
            console.print(f"[red]interrupted[/]: {monitor.submitted:,} pages of batch {batch_id} were enqueued "
                          "before stopping; they will be processed")
            raise typer.Exit(130) from None
        monitor.end_submit(summary)
        elapsed = time.monotonic() - started
        if not wait:
            if display:
                display.stop()
                display = None
        summary_line = (f"batch {summary.batch_id}: submitted {summary.submitted:,} pages "
                        f"({fmt_bytes(summary.bytes_submitted)}) in {elapsed:.2f}s "
                        f"({summary.submitted / max(elapsed, 1e-9):,.0f} pages/s), skipped {summary.skipped:,}")
        if display:
            display.console.print(summary_line, highlight=False)
        else:
            console.print(summary_line, highlight=False)
        if summary.waited_s >= 0.5:
            console.print(f"  waited {summary.waited_s:.1f}s for room in the parse queue "
                          f"(GLEANER_MAX_QUEUED_BUNDLES={get_settings().max_queued_bundles:,} messages)", highlight=False)
        for reason, n in summary.skipped_reasons.most_common():
            console.print(f"  skipped {n:,}: {escape(reason)}", highlight=False)
        if summary.refused:
            console.print(f"  {summary.refused:,} refused pages are in the failure store: gleaner failures list "
                          f"--batch {summary.batch_id}", highlight=False)
        if summary.not_submitted:
            console.print(f"  [red]{len(summary.not_submitted):,} pages could not be enqueued[/] "
                          f"({escape(summary.broker_error or 'broker error')}), from {escape(summary.not_submitted[0])} "
                          f"on: submit them again", highlight=False, soft_wrap=True)
        if not wait:
            if summary.not_submitted:
                raise typer.Exit(1)
            return
        state = _follow_batch(monitor, timeout, live=live, display=display, interval=interval)
    finally:
        if display:
            display.stop()
    failed = _final_summary(monitor, state)
    raise typer.Exit(1 if failed or summary.refused or summary.not_submitted else 0)


def _follow_batch(monitor: BatchMonitor, timeout: float, *, live: bool, display: Live | None,
                  interval: float) -> BatchProgress | None:
    deadline = time.monotonic() + timeout if timeout else None
    last_line = float("-inf") if not live else 0.0
    try:
        while True:
            state = monitor.poll(force=True)
            if state is None or state.complete:
                break
            if not live and time.monotonic() - last_line >= interval:
                last_line = time.monotonic()
                console.print(plain_progress_line(monitor.view()), highlight=False, soft_wrap=True)
            if deadline and time.monotonic() > deadline:
                if display:
                    display.stop()
                console.print(f"[red]timed out[/] with {state.submitted - state.finished:,} pages still in flight "
                              f"(batch {monitor.batch_id} goes on: gleaner status)")
                raise typer.Exit(2)
            time.sleep(monitor.poll_s)
    except KeyboardInterrupt:
        if display:
            display.stop()
        console.print(f"stopped following batch {monitor.batch_id}; its pages go on (gleaner status)")
        raise typer.Exit(130) from None
    monitor.ended = monitor.clock()
    if display:
        display.refresh()
        display.stop()
    elif state is not None:
        console.print(plain_progress_line(monitor.view()), highlight=False, soft_wrap=True)
    return state


def _final_summary(monitor: BatchMonitor, state: BatchProgress | None) -> int:
    view = monitor.view()
    if state is None:
        console.print("done: nothing was submitted")
        return 0
    rate = state.finished / view.elapsed_s if view.elapsed_s > 0 else None
    console.print(f"done in {fmt_elapsed(view.elapsed_s)}: indexed {state.indexed:,}, failed {state.failed:,} "
                  f"of {plural(state.submitted, 'page')} ({fmt_rate(rate, ' pages/s')})", highlight=False)
    if state.failed:
        from workers.runtime import failure_store

        reasons = batch_failure_reasons(failure_store(), monitor.batch_id)
        for (stage, error), n in (reasons or Counter()).most_common(10):
            console.print(f"  {stage}/{error}: {n:,}", highlight=False)
        console.print(f"see why: gleaner failures list --batch {monitor.batch_id}", highlight=False)
    return state.failed


def batch_failure_reasons(store: FailureStore, batch_id: str, limit: int = 20_000) -> Counter[tuple[str, str]] | None:
    """Failures of one batch by (stage, error); None when the store is too large to scan."""
    if store.count() > limit:
        return None
    return Counter((r.stage, r.error) for r in store if r.batch_id == batch_id)


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
    from workers.store.elastic import bulk_index, index_item

    ensure_index_once()
    results = bulk_index(es_client(), get_settings().index_alias, [index_item(p.doc_id, p.document) for p in batch])
    bad = [r for r in results if r.outcome in ("rejected", "retry")]
    for r in bad:
        console.print(f"index failed for {r.doc_id}: {r.reason}")
    return len(bad)


# --- service --------------------------------------------------------------------------------

@app.command()
def setup() -> None:
    """Install the index template and the write alias, the failures index (for Kibana), and
    the Kibana objects when GLEANER_KIBANA_URL is set."""
    from workers.runtime import es_client, failure_store
    from workers.store.elastic import ensure_index
    from workers.store.failure_index import FAILURES_INDEX, sync_failures_index

    settings = get_settings()
    created = ensure_index(es_client(), settings.index_alias, update_template=True)
    console.print(f"index template installed; alias '{settings.index_alias}' " + ("created" if created else "exists"))
    try:
        records = list(failure_store())
    except Exception as exc:  # noqa: BLE001 - Redis is not needed to set up Elasticsearch
        console.print(f"failure store not readable ({exc.__class__.__name__}): '{FAILURES_INDEX}' not synced")
        records = []
    written, errors = sync_failures_index(es_client(), records)
    console.print(f"failures index '{FAILURES_INDEX}' ready; {written:,} failure records copied"
                  + (f", {errors:,} rejected" if errors else ""))
    if settings.kibana_url:
        from workers.store.kibana import KibanaError, import_saved_objects

        try:
            console.print(import_saved_objects(settings, progress=console.print))
        except KibanaError as exc:
            console.print(f"[red]Kibana import failed[/]: {exc}")
            raise typer.Exit(1) from None


STATUS_WINDOWS = (1, 5, 15)  # minutes of the rates in `gleaner status`


def status_report(*, failures_scan_limit: int = 5000) -> dict[str, Any]:
    """Everything ``gleaner status`` shows, as one JSON-able dict. Parts that are down say so
    (``redis: "down: ..."``) instead of failing the whole report."""
    from workers.runtime import es_client, failure_store, progress_store, redis_client
    from workers.store.failure_index import FAILURES_INDEX
    from workers.store.progress import RATE_SERIES, window_rate
    from workers.store.queues import queue_depths, worker_report

    settings = get_settings()
    report: dict[str, Any] = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    try:
        redis_client().ping()
        broker_up = True
    except Exception:  # noqa: BLE001 - reported below
        broker_up = False
    # The workers are asked over the broker (it takes the whole timeout): meanwhile, the rest.
    with _background(worker_report if broker_up else (lambda timeout: ({}, {})), timeout=1.0) as workers_future:
        try:
            client = redis_client()
            client.ping()
            info = client.info()
            report["redis"] = "ok"
            report["redis_info"] = {
                "url": _safe_url(settings.redis_url), "version": info.get("redis_version"),
                "used_memory": info.get("used_memory"), "maxmemory_policy": info.get("maxmemory_policy"),
                "aof_enabled": bool(info.get("aof_enabled")), "connected_clients": info.get("connected_clients"),
                "uptime_s": info.get("uptime_in_seconds"),
            }
            report["queues"] = queue_depths(client)
            now = time.time()
            history = progress_store().stage_history(max(STATUS_WINDOWS) + 1, now)
            totals = progress_store().stage_totals()
            # Failures recorded (by the failure store, per stage, since Redis started keeping them).
            failed_by_stage = {(k.decode() if isinstance(k, bytes) else k): int(v)
                               for k, v in client.hgetall("gleaner:stats:failed_by_stage").items()}
            totals["failed"] = sum(failed_by_stage.values())
            report["stages"] = {
                series: {
                    "total": totals.get(series),
                    **{f"per_s_{m}m": round(window_rate(history[series], now, m), 3) for m in STATUS_WINDOWS},
                    "per_minute": history[series][1:],
                }
                for series in RATE_SERIES
            }
            store = failure_store()
            stored = store.count()
            failures: dict[str, Any] = {"stored": stored, "recorded_by_stage": failed_by_stage}
            if stored <= failures_scan_limit:
                records = list(store)
                failures["by_reason"] = {f"{s}/{e}": n for (s, e), n in
                                         Counter((r.stage, r.error) for r in records).most_common()}
                failures["retryable"] = sum(1 for r in records if r.stage != "submit" and r.payload)
            report["failures"] = failures
            report["batches"] = [_batch_json(b) for b in progress_store().recent_batches(5)]
        except Exception as exc:  # noqa: BLE001 - status reports what is down
            report["redis"] = f"down: {exc.__class__.__name__}: {exc}"[:300]
        try:
            es = es_client()
            cluster = _es_report(es, settings.index_alias)
            report["elasticsearch"] = cluster.pop("status")
            report["elasticsearch_info"] = {"url": _safe_url(settings.es_url), **cluster}
            report["documents"] = sum(i.get("documents") or 0 for i in cluster["indices"].values())
        except Exception as exc:  # noqa: BLE001
            report["elasticsearch"] = f"down: {exc.__class__.__name__}"
        else:
            try:
                if es.indices.exists(index=FAILURES_INDEX):
                    report["elasticsearch_info"]["failures_index_documents"] = int(
                        es.count(index=FAILURES_INDEX)["count"])
            except Exception:  # noqa: BLE001 - a writer may not read the failures index
                pass
        try:
            by_queue, details = workers_future.result()
        except Exception:  # noqa: BLE001 - no broker, no workers to ask
            by_queue, details = {}, {}
    report["workers"] = by_queue
    report["worker_pools"] = details
    return report


def _es_report(es: Any, alias: str) -> dict[str, Any]:
    from workers.store.elastic import cluster_report

    return cluster_report(es, alias)


class _background:
    """Run one call in a thread while the caller does other work (``with ... as future``)."""

    def __init__(self, fn: Callable[..., Any], **kwargs: Any) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1)
        self._future = self._pool.submit(fn, **kwargs)

    def __enter__(self) -> Any:
        return self._future

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=False)


def _safe_url(url: str) -> str:
    """A URL without its password."""
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)


def _batch_json(b: BatchProgress) -> dict[str, Any]:
    return {"batch_id": b.batch_id, "collection": b.collection, "submitted": b.submitted, "parsed": b.parsed,
            "enriched": b.enriched, "indexed": b.indexed, "failed": b.failed, "complete": b.complete,
            "started_at": datetime.fromtimestamp(b.created_at, timezone.utc).isoformat(timespec="seconds")
            if b.created_at else None}


@app.command()
def status(as_json: JsonOpt = False) -> None:
    """Queues, live workers, per-stage counts and rates over the last minutes, failures, recent
    batches, documents in the index, Redis and Elasticsearch health. Exit 1 when Redis or
    Elasticsearch is down or a queue has no live worker."""
    report = status_report()
    if as_json:
        _print_json(report)
    else:
        for renderable in render_status(report):
            out.print(renderable)
    raise typer.Exit(0 if status_ok(report) else 1)


def status_ok(report: dict[str, Any]) -> bool:
    """Redis up, Elasticsearch green or yellow, and a live worker on every queue."""
    workers = report.get("workers") or {}
    return (report.get("redis") == "ok" and report.get("elasticsearch") in ("green", "yellow")
            and all(workers.get(q) for q in ("parse", "enrich", "index")))


def render_status(report: dict[str, Any]) -> list[RenderableType]:
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
    for series in ("submit", "parse", "enrich", "index", "failed"):
        st = stages.get(series) or {}
        if series in ("parse", "enrich", "index"):
            names = workers.get(series) or []
            slots = sum(pools.get(n, {}).get("concurrency") or 0 for n in names)
            worker_text = Text(str(len(names))) if names else Text("none!", style="bold red")
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
    parts.append(Text(f"queued and unacked count messages: each is a bundle of up to {get_settings().bundle_pages} pages; "
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
            finished = b["indexed"] + b["failed"]
            state = Text("done", style="green") if b["complete"] else Text("running", style="yellow")
            started = datetime.fromisoformat(b["started_at"]) if b.get("started_at") else None
            bt.add_row(b["batch_id"], escape(b.get("collection") or "-"), state,
                       f"{finished:,}/{b['submitted']:,}", f"indexed {b['indexed']:,}",
                       Text(f"failed {b['failed']:,}", style="red" if b["failed"] else ""), fmt_age(started))
        parts.append(Padding(bt, (0, 0, 0, 2), expand=False))
    return parts


# --- search ---------------------------------------------------------------------------------

_DATE_SHORTHAND = re.compile(r"^(\d+)([smhdwMy])$")
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def parse_date_bound(value: str) -> str:
    """A date bound for ``published_at``: ``2020-09-23``, ``2020-09``, ``2020``, an ISO datetime,
    ``7d``/``2w``/``6M``/``1y`` (that long ago), or Elasticsearch date math (``now-7d/d``).
    Partial dates cover their whole day, month or year."""
    value = value.strip()
    m = _DATE_SHORTHAND.match(value)
    if m:
        return f"now-{m.group(1)}{m.group(2)}"
    if value.startswith("now") and re.fullmatch(r"now([+-]\d+[smhdwMy])*(/[smhdwMy])?", value):
        return value
    if _PARTIAL_DATE.match(value):
        rounding = {4: "y", 7: "M", 10: "d"}[len(value)]
        return f"{value}||/{rounding}"
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r}: use a date (2020-09-23), a time ago (7d, 2w, 6M, 1y) "
                                 "or date math (now-7d/d)") from None
    return value


def highlighted(fragment: str, *, styled: bool) -> Text:
    """A highlight fragment with its marked terms in bold (terminal) or in [brackets] (plain)."""
    from workers.store.elastic import HIGHLIGHT_POST, HIGHLIGHT_PRE

    text = Text()
    fragment = " ".join(fragment.split())
    for i, part in enumerate(re.split(f"[{HIGHLIGHT_PRE}{HIGHLIGHT_POST}]", fragment)):
        if i % 2:
            if styled:
                text.append(part, style="bold yellow")
            else:
                text.append(f"[{part}]")
        else:
            text.append(part)
    return text


def snippet_of(hit: dict[str, Any], *, styled: bool, max_chars: int = 240) -> Text:
    fragments = (hit.get("highlight") or {}).get("body") or []
    if fragments:
        text = Text(" … ").join(highlighted(f, styled=styled) for f in fragments)
    else:
        body = " ".join(((hit.get("_source") or {}).get("body") or "").split())
        text = Text(body[:max_chars] + ("…" if len(body) > max_chars else ""))
    return text


def render_hit(n: int, hit: dict[str, Any], *, styled: bool) -> RenderableType:
    src = hit.get("_source") or {}
    title_fragments = (hit.get("highlight") or {}).get("title")
    title = highlighted(title_fragments[0], styled=styled) if title_fragments else Text(src.get("title") or "(no title)")
    title.stylize("bold")
    head = Text(f"{n}. ")
    head.append_text(title)
    meta = [src.get("domain") or src.get("site_name"), (src.get("published_at") or "")[:10] or None,
            src.get("language"), f"score {hit['_score']:.2f}" if hit.get("_score") is not None else None]
    line2 = Text(" · ".join(m for m in meta if m), style="green")
    where = Text(src.get("url") or src.get("source") or "", style="blue")
    body = Group(line2, where, snippet_of(hit, styled=styled))
    return Group(head, Padding(body, (0, 0, 0, len(str(n)) + 2), expand=False))


FACET_LABELS = {"persons": "persons", "organizations": "organizations", "places": "places", "sites": "sites"}


def render_facets(aggregations: dict[str, Any], top: int = 8) -> RenderableType | None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    rows = 0
    for name, label in FACET_LABELS.items():
        buckets = (aggregations.get(name) or {}).get("buckets") or []
        if buckets:
            grid.add_row(label, Text(" · ".join(f"{b['key']} ({b['doc_count']:,})" for b in buckets[:top])))
            rows += 1
    return grid if rows else None


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Full-text query over title, description, body, tags and entities; "
                                              "empty string for all pages (newest first).")],
    person: Annotated[Optional[list[str]], typer.Option("--person", help="Only pages naming this person (repeat: all of them).")] = None,
    org: Annotated[Optional[list[str]], typer.Option("--org", help="Only pages naming this organization (repeat: all of them).")] = None,
    place: Annotated[Optional[list[str]], typer.Option("--place", help="Only pages naming this place (repeat: all of them).")] = None,
    site: Annotated[Optional[list[str]], typer.Option("--site", help="Only pages of this site: host (jpost.com) or site name (repeat: any of them).")] = None,
    collection: Annotated[Optional[list[str]], typer.Option("--collection", help="Only pages of this collection (repeat: any of them).")] = None,
    lang: Annotated[Optional[list[str]], typer.Option("--lang", help="Only pages in this language, ISO 639-1 (repeat: any).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Published on or after: 2020-09-23, 2020-09, 7d, 2w, 6M, 1y, now-7d/d.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Published on or before (same forms as --since).")] = None,
    sort: Annotated[str, typer.Option(help="relevance or date (newest first).")] = "relevance",
    size: Annotated[int, typer.Option(help="Number of hits.")] = 10,
    page: Annotated[int, typer.Option(help="Page of hits (1 = the first --size hits).")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Search the pages: ranked hits with title, site, date, URL and a highlighted snippet, then
    the top persons, organizations, places and sites of all the hits. --json: one document per
    line, with its id and score."""
    from elasticsearch import NotFoundError

    from workers.runtime import es_client
    from workers.store.elastic import search_pages

    if sort not in ("relevance", "date"):
        raise typer.BadParameter("relevance or date", param_hint="--sort")
    alias = get_settings().index_alias
    try:
        resp = search_pages(
            es_client(), alias, query, persons=person, organizations=org, locations=place, sites=site,
            collections=collection, languages=lang, since=parse_date_bound(since) if since else None,
            until=parse_date_bound(until) if until else None, size=size, offset=max(page - 1, 0) * size, sort=sort,
            with_entities=as_json,
        )
    except NotFoundError:
        console.print(f"no pages yet: the alias '{alias}' does not exist (gleaner setup, then gleaner submit)")
        raise typer.Exit(1) from None
    hits = resp["hits"]["hits"]
    if as_json:
        for hit in hits:
            _print_json({"id": hit["_id"], "score": hit["_score"], **hit["_source"]})
        return
    total = resp["hits"]["total"]["value"]
    first = max(page - 1, 0) * size
    shown = f" (showing {first + 1:,}-{first + len(hits):,})" if hits and (total > len(hits) or first) else ""
    out.print(f"{total:,} {'page matches' if total == 1 else 'pages match'}{shown}", highlight=False)
    styled = out.is_terminal
    for n, hit in enumerate(hits, first + 1):
        out.print()
        out.print(render_hit(n, hit, styled=styled))
    facets = render_facets(resp.get("aggregations") or {})
    if facets is not None and total:
        out.print()
        out.print(Text(f"Across the {plural(total, 'hit')}:", style="bold"))
        out.print(facets)


# --- failures -------------------------------------------------------------------------------

ReasonOpt = Annotated[Optional[str], typer.Option("--reason", help="Only this error code (binary_content, empty_after_cleaning...).")]
StageOpt = Annotated[Optional[str], typer.Option("--stage", help="Only failures of this stage (submit, parse, enrich, index).")]
BatchOpt = Annotated[Optional[str], typer.Option("--batch", help="Only failures of this batch (its id, from submit).")]
CollectionOpt = Annotated[Optional[str], typer.Option("--collection", help="Only failures of this collection.")]
RETRYABLE_STAGES = ("parse", "enrich", "index")


def select_failures(records: Iterable[FailureRecord], *, reason: str | None = None, stage: str | None = None,
                    batch: str | None = None, collection: str | None = None) -> list[FailureRecord]:
    return [r for r in records
            if (reason is None or r.error == reason) and (stage is None or r.stage == stage)
            and (batch is None or r.batch_id == batch) and (collection is None or r.collection == collection)]


def is_retryable(record: FailureRecord) -> bool:
    return record.stage in RETRYABLE_STAGES and bool(record.payload)


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
    retryable = sum(1 for r in records if is_retryable(r))
    parts: list[RenderableType] = [Text(f"{plural(len(records), 'failed page')}, {retryable:,} retryable", style="bold")]
    for (stage, error), members in group_failures(records):
        parts.append(Text(""))
        head = Text(f"{stage} · {error} · {plural(len(members), 'page')}", style="bold")
        if not any(is_retryable(r) for r in members):
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


@failures_app.callback(invoke_without_command=True)
def failures_main(ctx: typer.Context) -> None:
    """The failure store: pages that will not be indexed, and why."""
    if ctx.invoked_subcommand is None:
        failures_list()


@failures_app.command("list")
def failures_list(
    reason: ReasonOpt = None,
    stage: StageOpt = None,
    batch: BatchOpt = None,
    collection: CollectionOpt = None,
    limit: Annotated[int, typer.Option(help="Pages shown per reason (0: all).")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Failed pages grouped by stage and reason, newest first; --json: one record per line."""
    from workers.runtime import failure_store

    records = select_failures(failure_store(), reason=reason, stage=stage, batch=batch, collection=collection)
    if as_json:
        for r in records:
            _print_json(r.model_dump(mode="json", exclude={"payload"}))
        return
    for part in render_failure_groups(records, limit=limit):
        out.print(part)


@dataclass
class PageExcerpt:
    kind: str  # "raw page", "cleaned body", "document body"
    size: int  # bytes of the raw page, characters of a body
    text: str  # what to show: decoded text, or a hex dump for binary content
    note: str | None = None  # "binary: PNG image", "charset cp1252", an error
    data: bytes | None = None  # the whole page (raw bytes or UTF-8 body), for --raw


def hexdump(data: bytes, width: int = 16, limit: int = 128) -> str:
    lines = []
    for offset in range(0, min(len(data), limit), width):
        chunk = data[offset:offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        chars = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<{width * 3}} {chars}")
    return "\n".join(lines)


def page_excerpt(record: FailureRecord, max_chars: int | None = 1500) -> PageExcerpt | None:
    """What a failure's stored message holds of its page: the raw page (parse), the cleaned body
    (enrich) or the document's body (index); None when nothing was stored (refused at submit)."""
    payload = record.payload
    if not payload:
        return None
    if record.stage == "parse":
        return _raw_page_excerpt(payload, max_chars)
    if record.stage == "enrich":
        extraction = payload.get("extraction") or {}
        title, body, kind = extraction.get("title"), extraction.get("body") or "", "cleaned body"
    else:
        document = payload.get("document") or {}
        title, body, kind = document.get("title"), document.get("body") or "", "document body"
    text = (f"{title}\n\n" if title else "") + body
    shown = text if max_chars is None else text[:max_chars]
    return PageExcerpt(kind, len(body), shown, f"title: {title}" if title else None, text.encode("utf-8"))


def _raw_page_excerpt(payload: dict[str, Any], max_chars: int | None) -> PageExcerpt:
    import zlib

    import zstandard

    from workers.messages import decompress
    from workers.stages.decode import decode_bytes, sniff_binary
    from workers.stages.errors import PermanentPageError

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


@failures_app.command("show")
def failures_show(
    failure_id: Annotated[str, typer.Argument(help="Id of the failure, or an unambiguous prefix of it.")],
    full: Annotated[bool, typer.Option("--full", help="The whole page, not an excerpt.")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Write the stored page itself to stdout (raw bytes for parse failures).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """One failure: stage, reason, attempts, times, and an excerpt of the page it failed on."""
    from workers.runtime import failure_store

    record = failure_store().find(failure_id)
    if record is None:
        console.print(f"no failure with id {escape(failure_id)} (or the prefix is ambiguous): gleaner failures list")
        raise typer.Exit(1)
    excerpt = page_excerpt(record, None if full or raw else 1500)
    if raw:
        if excerpt is None or excerpt.data is None:
            console.print("no page is stored with this failure")
            raise typer.Exit(1)
        sys.stdout.buffer.write(excerpt.data)
        sys.stdout.flush()
        return
    data = record.model_dump(mode="json", exclude={"payload"})
    if as_json:
        data["retryable"] = is_retryable(record)
        data["excerpt"] = excerpt.text if excerpt else None
        data["excerpt_kind"] = excerpt.kind if excerpt else None
        _print_json(data)
        return
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
    retry_hint = (f"gleaner failures retry {_short_id(record)}" if is_retryable(record)
                  else "not retryable: resubmit the file with gleaner submit" if record.stage == "submit"
                  else "not retryable: no stored page")
    grid.add_row("retry", Text(retry_hint))
    out.print(grid)
    out.print()
    if excerpt is None:
        out.print(Text("no page stored with this failure (pages refused at submit are not kept)", style="dim"))
        return
    size = f"{excerpt.size:,} bytes" if excerpt.kind == "raw page" else f"{excerpt.size:,} characters"
    head = f"{excerpt.kind}, {size}" + (f", {excerpt.note}" if excerpt.note else "")
    out.rule(Text(head, style="bold"), align="left")
    out.print(Text(excerpt.text.rstrip()), soft_wrap=False)
    out.rule(Text("--full: the whole page; --raw: the stored page itself", style="dim"), align="left")


@failures_app.command("retry")
def failures_retry(
    failure_id: Annotated[Optional[str], typer.Argument(help="Id (or prefix) of one failure.")] = None,
    reason: Annotated[Optional[str], typer.Option(help="Retry every failure with this error code.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Retry every failure.")] = False,
    stage: StageOpt = None,
    batch: BatchOpt = None,
) -> None:
    """Send failed pages through the pipeline again, from the stage that failed. Their records
    leave the store; a page that fails again gets a new one."""
    from workers.retry import retry_failures
    from workers.runtime import failure_store

    store = failure_store()
    if failure_id:
        record = store.find(failure_id)
        if record is None:
            console.print(f"no failure with id {escape(failure_id)} (or the prefix is ambiguous)")
            raise typer.Exit(1)
        records = [record]
    elif reason or all_ or stage or batch:
        records = select_failures(store, reason=reason, stage=stage, batch=batch)
    else:
        console.print("name a failure id, --reason CODE, --stage, --batch or --all")
        raise typer.Exit(2)
    if not records:
        console.print("no failures match")
        raise typer.Exit(1)
    groups = Counter((r.stage, r.error) for r in records if is_retryable(r))
    sent, unretryable = retry_failures(store, records)
    console.print(f"resubmitted {plural(sent, 'page')}" + (": " + ", ".join(f"{s}/{e} {n:,}" for (s, e), n in
                                                                            groups.most_common()) if groups else ""),
                  highlight=False)
    if unretryable:
        console.print(f"{plural(unretryable, 'page')} cannot be retried (refused at submit or no stored page: "
                      "resubmit the files with gleaner submit)", highlight=False)
    if sent:
        console.print("follow them with gleaner status; pages that fail again are back in gleaner failures list",
                      highlight=False)


@failures_app.command("purge")
def failures_purge(
    reason: ReasonOpt = None,
    stage: StageOpt = None,
    batch: BatchOpt = None,
) -> None:
    """Delete failure records: all of them, or those of a reason, stage or batch."""
    from workers.runtime import failure_store

    store = failure_store()
    if reason or stage or batch:
        records = select_failures(store, reason=reason, stage=stage, batch=batch)
        deleted = sum(1 for r in records if store.delete(r.id))
    else:
        deleted = store.purge()
    console.print(f"purged {deleted:,} failure records")


@app.command(hidden=True)
def schemas() -> None:
    """Write the message JSON Schemas to schemas/messages/."""
    from workers.schemas import export_message_schemas

    for path in export_message_schemas():
        console.print(f"wrote {path}")


if __name__ == "__main__":
    app()
