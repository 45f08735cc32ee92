"""Following a batch: plain lines, the live display (rich.progress) and the rates it measures."""

import pytest

from tests.unit.cli.conftest import render
from workers.cli.progress import BatchMonitor, BatchView, plain_progress_line
from workers.store.progress import BatchProgress

pytestmark = pytest.mark.unit


def _view(**kw) -> BatchView:
    base = dict(batch_id="20261124T210501-1f2e3a", elapsed_s=12.0, submitting=False, submitted=100,
                bytes_submitted=2_000_000, done={"parsed": 90, "enriched": 80, "indexed": 70}, failed=5,
                rates={"finished": 5.0, "submitted": 100.0})
    return BatchView(**{**base, **kw})


def test_plain_progress_line():
    line = plain_progress_line(_view())
    assert line == ("[0:00:12] 75/100 done | parsed 90 | enriched 80 | indexed 70 | failed 5 | 5.00 pages/s"
                    " | ETA 0:00:05")
    submitting = plain_progress_line(_view(submitting=True, submitted=1_000_000))
    assert submitting.startswith("[0:00:12] submitting 1,000,000 pages (2.0 MB, 100 pages/s) | parsed 90")
    assert "ETA" not in submitting
    assert plain_progress_line(_view(submitting=True, follow=False)) == \
        "[0:00:12] submitting 100 pages (2.0 MB, 100 pages/s)"


def test_eta_is_unknown_while_submitting_or_without_a_rate():
    assert _view().eta_s == pytest.approx(5.0)
    assert _view(submitting=True).eta_s is None
    assert _view(rates={}).eta_s is None
    assert _view(done={"parsed": 100, "enriched": 100, "indexed": 95}).eta_s == 0.0


class FakeProgress:
    def __init__(self) -> None:
        self.state = BatchProgress("b", submitted=0, parsed=0, enriched=0, indexed=0, failed=0, done_submitting=False)
        self.reads = 0

    def get(self, batch_id):
        self.reads += 1
        return self.state


class FakeSummary:
    def __init__(self, n: int) -> None:
        self.submitted, self.bytes_submitted = n, n * 1000


def _monitor_over_ten_seconds() -> tuple[BatchMonitor, FakeProgress]:
    clock = [0.0]
    store = FakeProgress()
    monitor = BatchMonitor(store, "b", poll_s=1.0, clock=lambda: clock[0])
    monitor.poll()
    monitor.poll()
    assert store.reads == 1, "at most one read per poll interval"
    monitor.end_submit(FakeSummary(100))
    for t in range(1, 11):
        clock[0] = float(t)
        store.state = BatchProgress("b", 100, parsed=10 * t, enriched=10 * t, indexed=9 * t, failed=t,
                                    done_submitting=True)
        monitor.poll()
    return monitor, store


def test_batch_monitor_reads_at_most_every_poll_interval_and_measures_rates():
    monitor, store = _monitor_over_ten_seconds()
    view = monitor.view()
    assert view.submitted == 100 and view.finished == 100 and view.done == {"parsed": 100, "enriched": 100,
                                                                            "indexed": 90}
    assert view.rates["finished"] == pytest.approx(10.0) and view.rates["indexed"] == pytest.approx(9.0)


def test_live_display_shows_a_bar_per_stage_the_failures_and_the_eta():
    monitor, _ = _monitor_over_ten_seconds()
    text = render(monitor.display)
    for expected in ("submitted", "parsed", "enriched", "indexed", "failed", "100 / 100", "90 / 100", "10.0/s",
                     "batch b", "elapsed 0:00:10", "ETA 0:00:00"):
        assert expected in text, expected
    submitting = BatchMonitor(FakeProgress(), "b2", follow=True)
    submitting.on_submit(FakeSummary(5))
    assert "submitting" in render(submitting.display) and "ETA after submission" in render(submitting.display)


def test_batch_monitor_without_following_only_counts_the_submission():
    monitor = BatchMonitor(FakeProgress(), "b", follow=False)
    monitor.on_submit(FakeSummary(500))
    assert monitor.poll() is None
    view = monitor.view()
    assert view.submitted == 500 and view.bytes_submitted == 500_000 and view.submitting
    monitor.end_submit(FakeSummary(700))
    assert not monitor.view().submitting and monitor.view().submitted == 700
    assert "parsed" not in render(monitor.display), "the stages are shown only when following"
