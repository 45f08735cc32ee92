"""``gleaner submit``: enqueue pages and, with ``--wait``, follow them to the end."""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import Progress

from workers.cli.format import fmt_bytes, fmt_elapsed, fmt_rate, plural
from workers.cli.output import PathsArg, err, live_display
from workers.cli.progress import BatchMonitor, plain_progress_line
from workers.config import get_settings
from workers.pipeline import PIPELINE

if TYPE_CHECKING:
    from workers.producer import SubmitSummary
    from workers.store.failures import FailureStore
    from workers.store.progress import BatchProgress


def submit(
    paths: PathsArg,
    collection: Annotated[str | None, typer.Option(help="Label for this submission.")] = None,
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
    live = live_display() and not plain
    batch_id = new_batch_id()
    monitor = BatchMonitor(progress_store(), batch_id, follow=wait, live=live)
    err.print(f"batch {batch_id}: submitting" + (f" to collection {escape(collection)}" if collection else ""),
              highlight=False)
    last_line = [time.monotonic()]

    def on_page(summary: SubmitSummary) -> None:
        monitor.on_submit(summary)
        if not live and time.monotonic() - last_line[0] >= interval:
            last_line[0] = time.monotonic()
            err.print(plain_progress_line(monitor.view()), highlight=False, soft_wrap=True)

    started = time.monotonic()
    display = monitor.display if live else None
    try:
        if display:
            display.start()
        try:
            summary = submit_pages(paths, settings=settings, progress=progress_store(), failures=failure_store(),
                                   collection=collection, batch_id=batch_id, on_page=on_page)
        except KeyboardInterrupt:
            if display:
                display.stop()
            err.print(f"[red]interrupted[/]: {monitor.submitted:,} pages of batch {batch_id} were enqueued "
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
            err.print(summary_line, highlight=False)
        if summary.waited_s >= 0.5:
            err.print(f"  waited {summary.waited_s:.1f}s for room in the {PIPELINE.first.name} queue "
                      f"(GLEANER_MAX_QUEUED_BUNDLES={settings.max_queued_bundles:,} messages)", highlight=False)
        for reason, n in summary.skipped_reasons.most_common():
            err.print(f"  skipped {n:,}: {escape(reason)}", highlight=False)
        if summary.refused:
            err.print(f"  {summary.refused:,} refused pages are in the failure store: gleaner failures list "
                      f"--batch {summary.batch_id}", highlight=False)
        if summary.not_submitted:
            err.print(f"  [red]{len(summary.not_submitted):,} pages could not be enqueued[/] "
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


def _follow_batch(monitor: BatchMonitor, timeout: float, *, live: bool, display: Progress | None,
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
                err.print(plain_progress_line(monitor.view()), highlight=False, soft_wrap=True)
            if deadline and time.monotonic() > deadline:
                if display:
                    display.stop()
                err.print(f"[red]timed out[/] with {state.submitted - state.finished:,} pages still in flight "
                          f"(batch {monitor.batch_id} goes on: gleaner status)")
                raise typer.Exit(2)
            time.sleep(monitor.poll_s)
    except KeyboardInterrupt:
        if display:
            display.stop()
        err.print(f"stopped following batch {monitor.batch_id}; its pages go on (gleaner status)")
        raise typer.Exit(130) from None
    monitor.ended = monitor.clock()
    if display:
        display.refresh()
        display.stop()
    elif state is not None:
        err.print(plain_progress_line(monitor.view()), highlight=False, soft_wrap=True)
    return state


def _final_summary(monitor: BatchMonitor, state: BatchProgress | None) -> int:
    view = monitor.view()
    if state is None:
        err.print("done: nothing was submitted")
        return 0
    rate = state.finished / view.elapsed_s if view.elapsed_s > 0 else None
    last = PIPELINE.last
    err.print(f"done in {fmt_elapsed(view.elapsed_s)}: {last.done} {state.done(last.name):,}, failed {state.failed:,} "
              f"of {plural(state.submitted, 'page')} ({fmt_rate(rate, ' pages/s')})", highlight=False)
    if state.failed:
        from workers.runtime import failure_store

        reasons = batch_failure_reasons(failure_store(), monitor.batch_id)
        for (stage, error), n in (reasons or Counter()).most_common(10):
            err.print(f"  {stage}/{error}: {n:,}", highlight=False)
        err.print(f"see why: gleaner failures list --batch {monitor.batch_id}", highlight=False)
    return state.failed


def batch_failure_reasons(store: FailureStore, batch_id: str, limit: int = 20_000) -> Counter[tuple[str, str]] | None:
    """Failures of one batch by (stage, error); None when the store is too large to scan."""
    if store.count() > limit:
        return None
    return Counter((r.stage, r.error) for r in store if r.batch_id == batch_id)
