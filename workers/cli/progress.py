"""Following a batch: its submission (fed by the producer) and its pages through the pipeline's
stages (read from the progress store), shown live on a terminal (``rich.progress``: one bar per
stage, counts, rates, elapsed time and ETA) or as plain lines for logs and pipes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.table import Column
from rich.text import Text

from workers.cli.format import fmt_bytes, fmt_duration, fmt_rate
from workers.cli.output import err
from workers.pipeline import PIPELINE

if TYPE_CHECKING:
    from workers.producer import SubmitSummary
    from workers.store.progress import BatchProgress, ProgressStore


@dataclass
class BatchView:
    """What the progress display shows of one batch at one moment."""

    batch_id: str
    elapsed_s: float
    submitting: bool
    submitted: int
    bytes_submitted: int
    done: dict[str, int]  # pages through each stage, by its done label ("parsed")
    failed: int
    rates: dict[str, float | None] = field(default_factory=dict)  # pages/s of "submitted", each label, "failed", "finished"
    follow: bool = True

    @property
    def finished(self) -> int:
        return self.done.get(PIPELINE.last.done, 0) + self.failed

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
    if view.submitting:
        head = (f"submitting {view.submitted:,} pages ({fmt_bytes(view.bytes_submitted)}, "
                f"{fmt_rate(view.rates.get('submitted'), ' pages/s')})")
    else:
        head = f"{view.finished:,}/{view.submitted:,} done"
    if not view.follow:
        return f"[{fmt_duration(view.elapsed_s)}] {head}"
    parts = [f"[{fmt_duration(view.elapsed_s)}] {head}",
             *(f"{label} {count:,}" for label, count in view.done.items()),
             f"failed {view.failed:,}", fmt_rate(view.rates.get("finished"), " pages/s")]
    if not view.submitting:
        parts.append(f"ETA {fmt_duration(view.eta_s)}")
    return " | ".join(parts)


class _StageBar(ProgressColumn):
    """A bar, except for rows that count without a total (failed)."""

    def __init__(self, bar_width: int) -> None:
        super().__init__()
        self._bar = BarColumn(bar_width=bar_width)

    def render(self, task: Task) -> RenderableType:
        return self._bar.render(task) if task.fields.get("bar", True) else Text("")


class _Rate(ProgressColumn):
    """Pages per second over the last ``window_s`` (rich's estimate), for rows still moving."""

    def render(self, task: Task) -> Text:
        return Text(fmt_rate(task.speed) if task.fields.get("moving", True) else "", justify="right")


class _Display(Progress):
    """rich's progress display, with the batch's elapsed time and ETA under the bars; it reads the
    progress store (at most every poll interval) each time it draws."""

    def __init__(self, **options: Any) -> None:
        self.monitor: BatchMonitor | None = None  # set once its tasks are added
        super().__init__(
            TextColumn("{task.description}", style="bold", table_column=Column(min_width=10)),
            _StageBar(bar_width=32),
            TextColumn("{task.fields[detail]}", justify="right", table_column=Column(min_width=20)),
            _Rate(table_column=Column(min_width=9, justify="right")),
            **options,
        )

    def get_renderables(self) -> Iterable[RenderableType]:
        if self.monitor is not None:
            self.monitor.poll()
        yield from super().get_renderables()
        if self.monitor is not None:
            yield self.monitor.footer()


class BatchMonitor:
    """Follows one batch: its submission (fed by the producer) and its counters in Redis (read at
    most every ``poll_s``), with rates over the last ``window_s`` seconds. Thread-safe: the live
    display reads it from its refresh thread while the producer feeds it."""

    def __init__(self, store: ProgressStore | None, batch_id: str, *, poll_s: float = 0.5, window_s: float = 20.0,
                 follow: bool = True, clock: Callable[[], float] = time.monotonic, live: bool = False) -> None:
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
        self.display = _Display(console=err, get_time=clock, speed_estimate_period=window_s,
                                refresh_per_second=4, transient=not follow, disable=not live)
        add = self.display.add_task
        self._submitted = add("submitting", total=None, detail="")
        self._stages = {stage.done: add(stage.done, total=1, visible=follow, detail="") for stage in PIPELINE}
        self._failed = add("failed", total=None, visible=follow, detail="0", bar=False)
        self._finished = add("finished", total=None, visible=False, detail="")
        self.display.monitor = self

    # The display has a lock of its own and calls ``poll`` holding it: this lock is never held
    # while calling the display, so the two are never taken in the opposite order.

    def on_submit(self, summary: SubmitSummary) -> None:
        with self._lock:
            self.submitted = summary.submitted
            self.bytes_submitted = summary.bytes_submitted
        self.display.update(self._submitted, completed=summary.submitted,
                            detail=f"{summary.submitted:,} pages  {fmt_bytes(summary.bytes_submitted)}")

    def end_submit(self, summary: SubmitSummary) -> None:
        self.on_submit(summary)
        with self._lock:
            self.submitting = False
        self.display.update(self._submitted, description="submitted", total=max(summary.submitted, 1), moving=False)

    def poll(self, force: bool = False) -> BatchProgress | None:
        """The batch's counters, read again when ``poll_s`` has passed (or ``force``)."""
        if not self.follow or self.store is None:
            return None
        with self._lock:
            now = self.clock()
            if not force and now - self._last_poll < self.poll_s:
                return self.state
            self._last_poll = now
        state = self.store.get(self.batch_id)
        if state is None:
            return self.state
        with self._lock:
            self.state = state
            submitted = max(self.submitted, state.submitted)
        total = max(submitted, 1)
        for stage in PIPELINE:
            count = state.done(stage.name)
            self.display.update(self._stages[stage.done], completed=min(count, total), total=total,
                                detail=f"{count:,} / {submitted:,}")
        failed = state.failed
        self.display.update(self._failed, completed=failed, description="[bold red]failed" if failed else "failed",
                            detail=f"[red]{failed:,}" if failed else "0")
        self.display.update(self._finished, completed=state.finished)
        return state

    def _rate(self, task: TaskID) -> float | None:
        return self.display.tasks[task].speed

    def view(self) -> BatchView:
        self.poll()
        rates = {"submitted": self._rate(self._submitted), "failed": self._rate(self._failed),
                 "finished": self._rate(self._finished),
                 **{label: self._rate(task) for label, task in self._stages.items()}}
        with self._lock:
            st = self.state
            now = self.ended if self.ended is not None else self.clock()
            return BatchView(
                batch_id=self.batch_id, elapsed_s=now - self.started, submitting=self.submitting,
                submitted=max(self.submitted, st.submitted if st else 0), bytes_submitted=self.bytes_submitted,
                done={stage.done: st.done(stage.name) if st else 0 for stage in PIPELINE},
                failed=st.failed if st else 0, rates=rates, follow=self.follow,
            )

    def footer(self) -> Text:
        view = self.view()
        footer = Text(f"batch {view.batch_id}   elapsed {fmt_duration(view.elapsed_s)}", style="dim")
        if self.follow:
            footer.append(f"   ETA {fmt_duration(view.eta_s) if not view.submitting else 'after submission'}",
                          style="dim")
        return footer
